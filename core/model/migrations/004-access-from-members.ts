/**
 * Migration 4: the policy index keeps policies' members, not access pairs. The three access tables
 * of migration 2 held identities × services, identities × routers and services × routers,
 * reference counted: with an `#all → #all` edge router policy that is 5M rows at 100k identities
 * and 50 routers (most of a 300 MB snapshot), and keeping the identity × service counts was 45%
 * of the time to apply an identity create. Access is now read through the few policies an entity
 * is a member of (core/model/policy/), with a small cache of the policy side that is
 * checked against policy_index_generation.
 */
export const migration004 = {
  version: 4,
  name: 'access-from-members',
  sql: `
DROP INDEX identity_service_access_by_service;
DROP TABLE identity_service_access;
DROP INDEX identity_router_access_by_router;
DROP TABLE identity_router_access;
DROP INDEX service_router_access_by_router;
DROP TABLE service_router_access;

-- Bumped by every change of the policy index, in the same transaction, so that a cache of what
-- it read is used only while the tables are as they were when it read them.
CREATE TABLE policy_index_generation (value INTEGER NOT NULL);
INSERT INTO policy_index_generation (value) VALUES (0);

-- A Dial check reads the disabled routers (usually none) instead of one flag per router.
CREATE INDEX routers_disabled ON routers(id) WHERE disabled = 1;
`,
} as const;
