/**
 * The filter's tokens: identifiers and keywords (keywords in any case), double-quoted strings with
 * JSON's escapes, JSON numbers, operators and punctuation. Each token keeps its UTF-16 index so
 * that errors can name a character position.
 */
import { FilterError, positionAt } from './error.js';

export type TokenKind =
  | 'ident'
  | 'string'
  | 'number'
  | 'op'
  | '('
  | ')'
  | '['
  | ']'
  | ','
  | 'and'
  | 'or'
  | 'not'
  | 'in'
  | 'contains'
  | 'true'
  | 'false'
  | 'null'
  | 'anyof'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token. */
  readonly text: string;
  /** The decoded value of a string or number token. */
  readonly value?: string | number;
  /** UTF-16 index into the source; converted to a character position only for errors and nodes. */
  readonly index: number;
}

const KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'or',
  'not',
  'in',
  'contains',
  'true',
  'false',
  'null',
  'anyof',
]);

/** True if `word` is a keyword, in any case: such a word cannot name a field. */
export function isFilterKeyword(word: string): boolean {
  return KEYWORDS.has(word.toLowerCase());
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** How a character is shown in an error message. */
function describeChar(ch: string): string {
  return /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : JSON.stringify(ch);
}

class Tokenizer {
  private index = 0;

  constructor(private readonly source: string) {}

  fail(detail: string, index: number): never {
    throw new FilterError(detail, positionAt(this.source, index));
  }

  tokens(): Token[] {
    const tokens: Token[] = [];
    for (;;) {
      const token = this.next();
      tokens.push(token);
      if (token.kind === 'eof') return tokens;
    }
  }

  private next(): Token {
    const s = this.source;
    while (this.index < s.length && /[ \t\r\n]/.test(s[this.index] ?? '')) this.index++;
    const start = this.index;
    const ch = s[start];
    if (ch === undefined) return { kind: 'eof', text: '', index: start };

    if (ch === '"') return this.string();
    if (ch === '-' || (ch >= '0' && ch <= '9')) return this.number();
    if (IDENT_START.test(ch)) {
      let end = start + 1;
      while (end < s.length && IDENT_PART.test(s[end] ?? '')) end++;
      const text = s.slice(start, end);
      this.index = end;
      const lower = text.toLowerCase();
      const kind: TokenKind = KEYWORDS.has(lower) ? (lower as TokenKind) : 'ident';
      return { kind, text, index: start };
    }
    const two = s.slice(start, start + 2);
    if (two === '!=' || two === '<=' || two === '>=') {
      this.index += 2;
      return { kind: 'op', text: two, index: start };
    }
    if (ch === '=' || ch === '<' || ch === '>') {
      this.index++;
      return { kind: 'op', text: ch, index: start };
    }
    if (ch === '(' || ch === ')' || ch === '[' || ch === ']' || ch === ',') {
      this.index++;
      return { kind: ch, text: ch, index: start };
    }
    if (ch === "'") this.fail("unexpected character '''; strings are written in double quotes", start);
    const codePoint = String.fromCodePoint(s.codePointAt(start) ?? 0);
    return this.fail(`unexpected character ${describeChar(codePoint)}`, start);
  }

  private string(): Token {
    const s = this.source;
    const start = this.index;
    let value = '';
    let i = start + 1;
    for (;;) {
      const ch = s[i];
      if (ch === undefined) this.fail('unterminated string', start);
      if (ch === '"') break;
      if (ch !== '\\') {
        value += ch;
        i++;
        continue;
      }
      const escape = s[i + 1];
      if (escape === undefined) this.fail('unterminated string', start);
      const simple = SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        value += simple;
        i += 2;
      } else if (escape === 'u') {
        const hex = s.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail('\\u must be followed by four hex digits', i);
        value += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        this.fail(`unknown escape \\${escape}`, i);
      }
    }
    this.index = i + 1;
    return { kind: 'string', text: s.slice(start, this.index), value, index: start };
  }

  private number(): Token {
    const start = this.index;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.source);
    if (!match) this.fail(`malformed number`, start);
    const text = match[0];
    const end = start + text.length;
    // `12abc` or `1.` is a malformed number rather than a number followed by garbage.
    if (end < this.source.length && /[A-Za-z0-9_.]/.test(this.source[end] ?? '')) {
      this.fail(`malformed number`, start);
    }
    const value = Number(text);
    if (!Number.isFinite(value)) this.fail(`number ${text} is out of range`, start);
    this.index = end;
    return { kind: 'number', text, value, index: start };
  }
}

/** How a token is named in "expected X, found Y" messages. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'the end of the filter';
    case 'string':
      return `string ${token.text.length > 40 ? `${token.text.slice(0, 37)}..."` : token.text}`;
    case 'number':
      return `number ${token.text}`;
    default:
      return `'${token.text}'`;
  }
}

/** The tokens of `source`, ending with an eof token; throws a FilterError at the first bad one. */
export function tokenize(source: string): Token[] {
  return new Tokenizer(source).tokens();
}
