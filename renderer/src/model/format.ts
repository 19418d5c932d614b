/** How a value of a field reads in a table cell. */
import type { JsonValue } from '../api/types.js';
import type { FieldDescription } from './collections.js';

export const NONE = '–';

export function formatCell(
  field: FieldDescription,
  value: JsonValue | undefined,
  formatDate: (date: Date) => string = (d) => d.toLocaleString(),
): string {
  if (value === undefined || value === null) return NONE;
  if (field.kind === 'boolean') return value === true ? 'yes' : 'no';
  if (Array.isArray(value))
    return value.length === 0
      ? NONE
      : value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  if (field.name === 'createdAt' || field.name === 'updatedAt') {
    const date = new Date(String(value));
    return Number.isNaN(date.getTime()) ? String(value) : formatDate(date);
  }
  return String(value);
}
