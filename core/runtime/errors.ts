/** Refusals of runtime operations, with stable codes the API maps to statuses (api/problem.ts). */
const CODES = [
  'UNKNOWN_IDENTITY',
  'UNKNOWN_SERVICE',
  'UNKNOWN_ROUTER',
  'UNKNOWN_CIRCUIT',
  'POLICY_DENIED',
  'ROUTER_NOT_ALLOWED',
  'ROUTER_NOT_CONNECTED',
  /** A router did not answer in time: what it was asked may still have happened. */
  'ROUTER_TIMEOUT',
  'NO_TERMINATOR',
  'NO_PATH',
  'ROUTE_FAILED',
  'NO_CONTROLLER',
  /** This node was started without runtime data (an API server alone, as in tests). */
  'NO_RUNTIME',
] as const;

export type RuntimeErrorCode = (typeof CODES)[number];

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const KNOWN: ReadonlySet<string> = new Set(CODES);

export function isRuntimeErrorCode(code: unknown): code is RuntimeErrorCode {
  return typeof code === 'string' && KNOWN.has(code);
}
