/**
 * Role lists, as OpenZiti policies use them: `#attribute` selects entities carrying that role
 * attribute, `@id` one entity, `#all` every entity (and must stand alone in its list).
 */
export type RoleEntityType = 'identity' | 'service' | 'router' | 'postureCheck';

export type Semantic = 'AllOf' | 'AnyOf';

export interface ParsedRoles {
  readonly all: boolean;
  readonly ids: readonly string[];
  readonly attributes: readonly string[];
}

/** Parses a role list; returns why it is invalid as a string. */
export function parseRoles(roles: readonly string[]): ParsedRoles | string {
  const ids: string[] = [];
  const attributes: string[] = [];
  let all = false;
  for (const role of roles) {
    if (role === '#all') {
      all = true;
    } else if (role.startsWith('#') && role.length > 1) {
      attributes.push(role.slice(1));
    } else if (role.startsWith('@') && role.length > 1) {
      ids.push(role.slice(1));
    } else {
      return `role "${role}" must be #attribute, @id or #all`;
    }
  }
  if (all && roles.length > 1) return '#all must be alone in its role list';
  return { all, ids, attributes };
}

/** Why a role attribute carried by an entity is invalid, or undefined. */
export function checkRoleAttribute(attribute: string): string | undefined {
  if (attribute.length === 0) return 'a role attribute cannot be empty';
  if (attribute.startsWith('#') || attribute.startsWith('@')) {
    return `role attribute "${attribute}" cannot start with # or @`;
  }
  return undefined;
}
