/** A filter tree back to text, in one canonical form. */
import type { FieldRef, FilterNode, LiteralValue } from './tree.js';

const PRECEDENCE = { or: 1, and: 2, not: 3, compare: 4, contains: 4, in: 4 } as const;

function printLiteral(value: LiteralValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function printField(field: FieldRef): string {
  return field.anyOf ? `anyOf(${field.name})` : field.name;
}

/**
 * The canonical text of a filter tree, with only the parentheses it needs: `parseFilter` of the
 * result gives the same tree (positions aside). `and` and `or` associate to the left.
 */
export function printFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const p = PRECEDENCE[node.kind];
      const left = printFilter(node.left);
      const right = printFilter(node.right);
      return `${PRECEDENCE[node.left.kind] < p ? `(${left})` : left} ${node.kind} ${
        PRECEDENCE[node.right.kind] <= p ? `(${right})` : right
      }`;
    }
    case 'not': {
      const operand = printFilter(node.operand);
      return `not ${PRECEDENCE[node.operand.kind] < PRECEDENCE.not ? `(${operand})` : operand}`;
    }
    case 'compare':
      return `${printField(node.field)} ${node.op} ${printLiteral(node.value.value)}`;
    case 'contains':
      return `${printField(node.field)} contains ${printLiteral(node.value.value)}`;
    case 'in':
      return `${printField(node.field)} in [${node.values.map((v) => printLiteral(v.value)).join(', ')}]`;
  }
}
