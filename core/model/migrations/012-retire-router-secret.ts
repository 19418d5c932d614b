/**
 * Migration 12: routers prove themselves by their own certificates only, so the routers' shared
 * secret of earlier versions (the `routers.secret` setting) is removed from the model: no node
 * keeps it, and no snapshot or backup made from now on carries it.
 */
export const migration012 = {
  version: 12,
  name: 'retire-router-secret',
  sql: `DELETE FROM settings WHERE key = 'routers.secret';`,
} as const;
