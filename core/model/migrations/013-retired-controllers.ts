/**
 * Migration 13: the controllers removed from the cluster. A controller certificate is trusted
 * only for a node id not listed here once that node is out of the membership, so removing a
 * member revokes every certificate it holds (a node id is never reused: a machine comes back by
 * joining afresh, with a new id).
 */
export const migration013 = {
  version: 13,
  name: 'retired-controllers',
  sql: `
CREATE TABLE retired_controllers (
  node_id TEXT PRIMARY KEY,
  retired_at TEXT NOT NULL
) WITHOUT ROWID;
`,
} as const;
