/**
 * A policy's role list columns as the index stores them (policy_roles): parsed with roles.ts, each
 * distinct role once. Maintenance and the recomputation share this and nothing else.
 */
import type { SqlValue } from 'sql.js';
import { parseRoles, type ParsedRoles, type Semantic } from '../roles.js';

export interface RoleRow {
  readonly roleKind: 'all' | 'id' | 'attribute';
  readonly value: string;
}

/** A JSON array of strings, or undefined when the value is anything else. */
export function parseStringList(value: SqlValue | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A role list column parsed; a list that is not valid JSON or not valid roles selects nothing. */
function parseRoleList(value: SqlValue | undefined): ParsedRoles | undefined {
  const list = parseStringList(value);
  if (!list) return undefined;
  const parsed = parseRoles(list);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** The distinct roles of a role list column, as stored in policy_roles. */
export function roleRows(column: SqlValue | undefined): RoleRow[] {
  const roles = parseRoleList(column);
  if (!roles) return [];
  if (roles.all) return [{ roleKind: 'all', value: '' }];
  return [
    ...[...new Set(roles.ids)].map((value) => ({ roleKind: 'id' as const, value })),
    ...[...new Set(roles.attributes)].map((value) => ({ roleKind: 'attribute' as const, value })),
  ];
}

export function toSemantic(value: SqlValue | undefined): Semantic {
  return value === 'AnyOf' ? 'AnyOf' : 'AllOf';
}
