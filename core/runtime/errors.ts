/** Refusals of runtime operations, with stable codes the API maps to statuses (routes/runtime.ts). */
export type RuntimeErrorCode =
  | 'UNKNOWN_IDENTITY'
  | 'UNKNOWN_SERVICE'
  | 'UNKNOWN_ROUTER'
  | 'UNKNOWN_CIRCUIT'
  | 'POLICY_DENIED'
  | 'ROUTER_NOT_ALLOWED'
  | 'ROUTER_NOT_CONNECTED'
  | 'NO_TERMINATOR'
  | 'NO_PATH'
  | 'ROUTE_FAILED'
  | 'NO_CONTROLLER';

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isRuntimeErrorCode(code: unknown): code is RuntimeErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

const CODES: ReadonlySet<string> = new Set<RuntimeErrorCode>([
  'UNKNOWN_IDENTITY',
  'UNKNOWN_SERVICE',
  'UNKNOWN_ROUTER',
  'UNKNOWN_CIRCUIT',
  'POLICY_DENIED',
  'ROUTER_NOT_ALLOWED',
  'ROUTER_NOT_CONNECTED',
  'NO_TERMINATOR',
  'NO_PATH',
  'ROUTE_FAILED',
  'NO_CONTROLLER',
]);
