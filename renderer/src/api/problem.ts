/**
 * The UI's view of API errors: the shared ApiError (core/client/problem.ts) and a message for
 * people.
 */
import { ApiError } from '../../../client/problem.js';

export {
  ApiError,
  isStarting,
  networkError,
  normaliseFieldErrors,
  titleForStatus,
  toProblem,
  type ApiErrorKind,
} from '../../../client/problem.js';

/** A message for people: the title, the detail, and each field error. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
