/**
 * Cluster requests over socket.io acknowledgements: the caller emits (method, payload) with an ack
 * and a timeout; the callee runs the method's handler and acks a Reply. A handler's error travels
 * back as its message and `code`.
 */
import { z } from 'zod';
import type { NodeId } from '../raft/types.js';
import { RemoteError, TransportError, type TransportErrorCode } from './errors.js';
import { fromWireValue, toWireValue } from './codec.js';
import type { RequestHandler } from './types.js';

const replySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      message: z.string(),
      code: z.string().optional(),
      /** Set when the transport on the other side failed the request, not the handler. */
      transport: z.boolean().optional(),
    }),
  }),
]);

export type Reply = z.input<typeof replySchema>;

/** The callee's side: runs the handler for `method` and says what to ack. Never throws. */
export async function answerRequest(
  handlers: ReadonlyMap<string, RequestHandler>,
  peer: NodeId,
  method: unknown,
  payload: unknown,
): Promise<Reply> {
  if (typeof method !== 'string') return transportFailure('BAD_MESSAGE', 'malformed request');
  const handler = handlers.get(method);
  if (!handler) return transportFailure('NO_HANDLER', `no handler for ${method}`);
  try {
    return { ok: true, value: toWireValue(await handler(peer, fromWireValue(payload))) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown } | null)?.code;
    return {
      ok: false,
      error:
        typeof code === 'string' || typeof code === 'number' ? { message, code: String(code) } : { message },
    };
  }
}

export function transportFailure(code: TransportErrorCode, message: string): Reply {
  return { ok: false, error: { message, code, transport: true } };
}

/** The caller's side: the answer's value, or the error it stands for. */
export function readReply(reply: unknown, peer: NodeId): unknown {
  const parsed = replySchema.safeParse(reply);
  if (!parsed.success) throw new TransportError('BAD_MESSAGE', `malformed answer from ${peer}`);
  const answer = parsed.data;
  if (answer.ok) return fromWireValue(answer.value);
  const { message, code, transport } = answer.error;
  if (transport && isTransportCode(code)) throw new TransportError(code, `${peer}: ${message}`);
  throw new RemoteError(message, code, peer);
}

/** What a socket.io acknowledgement failure means for the caller. */
export function ackFailure(err: unknown, peer: NodeId, method: string): TransportError {
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'operation has timed out') {
    return new TransportError('TIMEOUT', `request ${method} to ${peer} timed out`);
  }
  if (message === 'socket has been disconnected') {
    return new TransportError('DISCONNECTED', `connection to ${peer} broke during request ${method}`);
  }
  return new TransportError('BAD_MESSAGE', `request ${method} to ${peer} failed: ${message}`);
}

const TRANSPORT_CODES: ReadonlySet<string> = new Set<TransportErrorCode>([
  'UNREACHABLE',
  'TIMEOUT',
  'DISCONNECTED',
  'NO_HANDLER',
  'BAD_MESSAGE',
  'CLOSED',
]);

function isTransportCode(code: string | undefined): code is TransportErrorCode {
  return code !== undefined && TRANSPORT_CODES.has(code);
}
