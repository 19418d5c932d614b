/**
 * The filter's recursive-descent parser, written by hand so that every error names the position it
 * concerns and the nesting depth and length stay bounded. The grammar is in index.ts.
 */
import { MAX_FILTER_BYTES } from '../../../contract/requests.js';
import { FilterError, positionAt } from './error.js';
import { describeToken, tokenize, type Token, type TokenKind } from './tokenizer.js';
import type { CompareOp, FieldRef, FilterNode, Literal } from './tree.js';

/** Longest filter accepted, in UTF-8 bytes: the grammar is linear, this bounds the work. */
export { MAX_FILTER_BYTES };
/** Deepest nesting of parentheses and `not` accepted: the parser recurses once per level. */
export const MAX_FILTER_DEPTH = 32;

class Parser {
  private at = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): FilterNode {
    if (this.peek().kind === 'eof') this.fail('the filter is empty', this.peek());
    const node = this.or();
    const rest = this.peek();
    if (rest.kind !== 'eof') {
      const hint = rest.kind === ')' ? ' (no matching opening parenthesis)' : '';
      this.fail(`unexpected ${describeToken(rest)} after a complete expression${hint}`, rest);
    }
    return node;
  }

  private peek(): Token {
    // The tokenizer always ends with an eof token, and `at` never passes it.
    return this.tokens[this.at] ?? this.tokens[this.tokens.length - 1]!;
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== 'eof') this.at++;
    return token;
  }

  private position(token: Token): number {
    return positionAt(this.source, token.index);
  }

  private fail(detail: string, token: Token): never {
    throw new FilterError(detail, this.position(token));
  }

  private expect(kind: TokenKind, what: string): Token {
    const token = this.peek();
    if (token.kind !== kind) this.fail(`expected ${what}, found ${describeToken(token)}`, token);
    return this.advance();
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      this.fail(`the filter nests deeper than ${MAX_FILTER_DEPTH} levels`, token);
    }
  }

  private or(): FilterNode {
    let left = this.and();
    while (this.peek().kind === 'or') {
      this.advance();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterNode {
    let left = this.not();
    while (this.peek().kind === 'and') {
      this.advance();
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): FilterNode {
    const token = this.peek();
    if (token.kind === 'not') {
      this.advance();
      this.enter(token);
      const operand = this.not();
      this.depth--;
      return { kind: 'not', operand };
    }
    if (token.kind === '(') {
      this.advance();
      this.enter(token);
      const inner = this.or();
      const close = this.peek();
      if (close.kind !== ')') {
        this.fail(
          `expected ')' to close the '(' at position ${this.position(token)}, found ${describeToken(close)}`,
          close,
        );
      }
      this.advance();
      this.depth--;
      return inner;
    }
    return this.comparison();
  }

  private comparison(): FilterNode {
    const field = this.field();
    const opToken = this.peek();
    const opPosition = this.position(opToken);
    if (opToken.kind === 'op') {
      this.advance();
      return { kind: 'compare', field, op: opToken.text as CompareOp, opPosition, value: this.literal() };
    }
    if (opToken.kind === 'contains') {
      this.advance();
      return { kind: 'contains', field, opPosition, value: this.literal() };
    }
    if (opToken.kind === 'in') {
      this.advance();
      this.expect('[', "'[' to open the list of values");
      if (this.peek().kind === ']') this.fail('an in list needs at least one value', this.peek());
      const values: Literal[] = [this.literal()];
      while (this.peek().kind === ',') {
        this.advance();
        values.push(this.literal());
      }
      this.expect(']', "',' or ']' in the list of values");
      return { kind: 'in', field, opPosition, values };
    }
    return this.fail(
      `expected an operator (=, !=, <, >, <=, >=, contains, in) after the field, found ${describeToken(opToken)}`,
      opToken,
    );
  }

  private field(): FieldRef {
    const token = this.peek();
    if (token.kind === 'anyof') {
      this.advance();
      this.expect('(', "'(' after anyOf");
      const name = this.expect('ident', 'a field name inside anyOf( )');
      this.expect(')', "')' to close anyOf(");
      return { name: name.text, anyOf: true, position: this.position(name) };
    }
    if (token.kind !== 'ident') {
      const found =
        token.kind === 'eof' ? describeToken(token) : `${describeToken(token)}, which is not a field name`;
      this.fail(`expected a field name, found ${found}`, token);
    }
    this.advance();
    return { name: token.text, anyOf: false, position: this.position(token) };
  }

  private literal(): Literal {
    const token = this.peek();
    const position = this.position(token);
    switch (token.kind) {
      case 'string':
      case 'number':
        this.advance();
        return { value: token.value ?? null, position };
      case 'true':
      case 'false':
        this.advance();
        return { value: token.kind === 'true', position };
      case 'null':
        this.advance();
        return { value: null, position };
      default: {
        const hint = token.kind === 'ident' ? ' (strings are written in double quotes)' : '';
        return this.fail(
          `expected a value (a "string", a number, true, false or null), found ${describeToken(token)}${hint}`,
          token,
        );
      }
    }
  }
}

/** The UTF-16 index of the character at which `text`, in UTF-8, grows past `limit` bytes. */
function utf8Overflow(text: string, limit: number): number | undefined {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      if (bytes > limit) return i;
      i++;
      continue;
    } else bytes += 3;
    if (bytes > limit) return i;
  }
  return undefined;
}

/** Parses `text` into a filter tree, or throws a FilterError saying what is wrong and where. */
export function parseFilter(text: string): FilterNode {
  const overflow = utf8Overflow(text, MAX_FILTER_BYTES);
  if (overflow !== undefined) {
    throw new FilterError(`the filter is longer than ${MAX_FILTER_BYTES} bytes`, positionAt(text, overflow));
  }
  return new Parser(text, tokenize(text)).parse();
}
