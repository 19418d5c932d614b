/** The filter tree that the parser builds and the printer and the compiler read. */

export type LiteralValue = string | number | boolean | null;
export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** A value as written, with the 1-based character position it starts at. */
export interface Literal {
  readonly value: LiteralValue;
  readonly position: number;
}

/** A field as written: `name`, or `anyOf(name)` for list fields. */
export interface FieldRef {
  readonly name: string;
  readonly anyOf: boolean;
  readonly position: number;
}

export type FilterNode =
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly operand: FilterNode }
  | {
      readonly kind: 'compare';
      readonly field: FieldRef;
      readonly op: CompareOp;
      readonly opPosition: number;
      readonly value: Literal;
    }
  | {
      readonly kind: 'contains';
      readonly field: FieldRef;
      readonly opPosition: number;
      readonly value: Literal;
    }
  | {
      readonly kind: 'in';
      readonly field: FieldRef;
      readonly opPosition: number;
      readonly values: readonly Literal[];
    };

/** The tree without positions: what a filter means, regardless of how it was spaced. */
export function withoutPositions(node: FilterNode): unknown {
  const field = (f: FieldRef) => ({ name: f.name, anyOf: f.anyOf });
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, left: withoutPositions(node.left), right: withoutPositions(node.right) };
    case 'not':
      return { kind: 'not', operand: withoutPositions(node.operand) };
    case 'compare':
      return { kind: 'compare', field: field(node.field), op: node.op, value: node.value.value };
    case 'contains':
      return { kind: 'contains', field: field(node.field), value: node.value.value };
    case 'in':
      return { kind: 'in', field: field(node.field), values: node.values.map((v) => v.value) };
  }
}
