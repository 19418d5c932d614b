/**
 * What the cluster port grants a connection before it has authenticated. Strangers reach the port
 * (routers still prove themselves by their own handshake after joining `/routers`), so until a
 * namespace admits a connection it gets little:
 *
 * - at most `maxPendingPerAddress` such connections per address and `maxPending` in all, each
 *   closed after `pendingTimeoutMs` (from TCP accept: TLS, the upgrade and the handshake together);
 * - websocket messages of at most the listener's pre-authentication size (the engine's limit,
 *   refused by the websocket layer from the frame header, before the bytes are buffered);
 * - no browser: a request with an `Origin` header is refused (a web page must not reach the port);
 * - a frame that does not decode closes the connection (frame-parser.ts).
 *
 * `admit()` lifts all of it for a connection its namespace authenticated: the full frame size, a
 * decoder that drops a bad frame instead of closing, and no more deadline.
 */
import type { IncomingMessage } from 'node:http';
import type { Server as NetServer, Socket as NetSocket } from 'node:net';
import type { Server, Socket } from 'socket.io';
import type { GuardedDecoder, GuardedFrameParser } from './frame-parser.js';

export type AdmissionRefusal = 'TOO_MANY_PENDING' | 'PENDING_TIMEOUT' | 'BROWSER_ORIGIN';

export interface AdmissionOptions {
  readonly maxPendingPerAddress: number;
  readonly maxPending: number;
  readonly pendingTimeoutMs: number;
  /** The websocket message size an admitted connection may send. */
  readonly admittedMessageBytes: number;
  readonly parser: GuardedFrameParser;
  readonly refused: (address: string, reason: AdmissionRefusal, detail: string) => void;
}

interface Pending {
  readonly address: string;
  readonly timer: NodeJS.Timeout;
}

export class Admission {
  private readonly pending = new Map<string, Pending>();
  private readonly pendingByAddress = new Map<string, number>();
  private readonly decoders = new WeakMap<object, GuardedDecoder>();

  constructor(private readonly o: AdmissionOptions) {}

  /** Guards the server's connections; call after socket.io attached to it. */
  watch(server: NetServer, io: Server): void {
    server.on('connection', (socket: NetSocket) => this.accept(socket));
    io.engine.on('connection', (conn: { remoteAddress: string }) => {
      const decoder = this.o.parser.claimLatest();
      if (!decoder) return;
      decoder.address = conn.remoteAddress;
      this.decoders.set(conn, decoder);
    });
  }

  /** engine.io's `allowRequest`: no browser gets a websocket on the cluster port. */
  readonly allowRequest = (
    req: IncomingMessage,
    answer: (err: string | null | undefined, success: boolean) => void,
  ): void => {
    const origin = req.headers.origin;
    if (origin === undefined) return answer(null, true);
    this.o.refused(req.socket.remoteAddress ?? 'unknown', 'BROWSER_ORIGIN', `origin ${origin.slice(0, 200)}`);
    answer('browsers are not served on the cluster port', false);
  };

  /** A namespace authenticated this connection. */
  admit(socket: Socket): void {
    this.release(connectionKey(socket.request.socket));
    const decoder = this.decoders.get(socket.conn);
    if (decoder) decoder.trusted = true;
    raiseMessageLimit(socket.conn, this.o.admittedMessageBytes);
  }

  /** Connections not admitted yet (a test's view). */
  pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    for (const key of [...this.pending.keys()]) this.release(key);
  }

  private accept(socket: NetSocket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.pendingByAddress.get(address) ?? 0;
    if (fromAddress >= this.o.maxPendingPerAddress || this.pending.size >= this.o.maxPending) {
      const limit = fromAddress >= this.o.maxPendingPerAddress ? 'from this address' : 'in all';
      this.o.refused(address, 'TOO_MANY_PENDING', `${limit}: connections not authenticated yet`);
      socket.destroy();
      return;
    }
    const key = connectionKey(socket);
    const timer = setTimeout(() => {
      this.o.refused(address, 'PENDING_TIMEOUT', `not authenticated within ${this.o.pendingTimeoutMs} ms`);
      socket.destroy();
    }, this.o.pendingTimeoutMs);
    timer.unref();
    this.pending.set(key, { address, timer });
    this.pendingByAddress.set(address, fromAddress + 1);
    socket.once('close', () => this.release(key));
  }

  private release(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    const left = (this.pendingByAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) this.pendingByAddress.set(entry.address, left);
    else this.pendingByAddress.delete(entry.address);
  }
}

/**
 * One TCP connection's name, the same on the raw socket the server accepted and on the TLS socket
 * over it that requests carry.
 */
function connectionKey(socket: {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}): string {
  return `${socket.remoteAddress ?? '?'}|${socket.remotePort ?? '?'}`;
}

/**
 * Raises one connection's websocket message limit. The engine gives every connection the same
 * `maxPayload` (our pre-authentication limit); ws keeps it per connection on its receiver, which is
 * the only place it can be changed for one connection. Tests send an admitted peer a frame above
 * the pre-authentication limit, so a change in ws or engine.io shows there.
 */
function raiseMessageLimit(conn: unknown, bytes: number): void {
  const transport = (conn as { transport?: { socket?: { _receiver?: { _maxPayload?: unknown } } } })
    .transport;
  const receiver = transport?.socket?._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
}

/**
 * Closes a connection whose namespace handshake was refused, once the refusal went out: socket.io
 * sends it on a later tick and only while the connection is open. One attempt per connection.
 */
export function closeAfterRefusal(socket: Socket): void {
  setImmediate(() => socket.conn.close());
}
