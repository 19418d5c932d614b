/**
 * Bounds on a JSON field (a config's data, a config type's schema, a posture check's params):
 * deep enough for any real config, shallow and small enough that validating, applying, storing
 * and answering it stays bounded. A value past them is refused with 400 before anything is
 * proposed; one already stored (from before these bounds) is answered without it (core/api).
 */
export const JSON_FIELD_MAX_DEPTH = 32;
export const JSON_FIELD_MAX_BYTES = 256 * 1024;

/**
 * Why `value` is past the bounds, or undefined. Depth first, so that the size is measured only
 * once the value is known to be shallow.
 */
export function jsonBoundsProblem(value: unknown): string | undefined {
  const deep = jsonDepthProblem(value);
  if (deep) return deep;
  const bytes = new TextEncoder().encode(JSON.stringify(value) ?? '').length;
  if (bytes > JSON_FIELD_MAX_BYTES) {
    return `is ${bytes} bytes as JSON, more than ${JSON_FIELD_MAX_BYTES}`;
  }
  return undefined;
}

/** Whether `value` nests deeper than the bound; without recursion, so hostile depth cannot overflow the stack. */
export function jsonDepthProblem(value: unknown): string | undefined {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    if (depth > JSON_FIELD_MAX_DEPTH) return `is nested deeper than ${JSON_FIELD_MAX_DEPTH} levels`;
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
  return undefined;
}
