/**
 * Migration 10: a router's one-time enrollment token names the router it enrolls (`subject`, a
 * routers.id), so that the token gives a certificate for that router and no other. Controller
 * invitations have none: a joining node chooses its own id.
 */
export const migration010 = {
  version: 10,
  name: 'router-invitations',
  sql: `
ALTER TABLE invitations ADD COLUMN subject TEXT;
CREATE INDEX invitations_by_subject ON invitations(subject) WHERE subject IS NOT NULL;
`,
} as const;
