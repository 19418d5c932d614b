/** The error of a filter that cannot be parsed or compiled, and how it names a place in the text. */

/** A filter that cannot be parsed or compiled; `position` is the 1-based character it concerns. */
export class FilterError extends Error {
  override readonly name = 'FilterError';
  readonly code = 'INVALID_FILTER';
  constructor(
    /** What is wrong, without the position. */
    readonly detail: string,
    readonly position: number,
  ) {
    super(`${detail} (at position ${position})`);
  }
}

/** The 1-based character (code point) position of UTF-16 index `index` in `source`. */
export function positionAt(source: string, index: number): number {
  let position = 1;
  for (let i = 0; i < index; i++) {
    const code = source.charCodeAt(i);
    // A surrogate pair is one character.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < index) {
      const next = source.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    position++;
  }
  return position;
}
