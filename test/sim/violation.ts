/** A broken invariant: which one, and what was seen. Thrown by the checker and the models. */
export class Violation extends Error {
  override readonly name = 'Violation';
  constructor(
    readonly invariant: string,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}
