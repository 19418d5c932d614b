/** Orders and sets of ids, by code unit as SQLite's default collation orders them. */

export function compareStrings(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Each value once, sorted (a router is in as many rows as policies give it). */
export function distinct(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort(compareStrings);
}

export function difference(xs: readonly string[], ys: readonly string[]): string[] {
  const remove = new Set(ys);
  return xs.filter((x) => !remove.has(x));
}
