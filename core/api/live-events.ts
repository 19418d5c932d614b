/**
 * The socket.io namespace `/events`, on the API's own HTTP server. A client connects with
 * `auth: { token, since? }`; it first receives the backlog after `since` from the ring (then a
 * `backlog` message saying whether it was truncated), then every new event as `event`. The
 * connection closes when the token expires, or when its admin is deleted, changes its password or
 * signs out (on every node, as the change applies there): a token is only as good as the admin
 * behind it.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { closeAfterRefusal } from '../transport/admission.js';
import { sessionEnded } from './auth.js';
import type { ApiDeps } from './deps.js';
import { originAllowed, type HostCheck } from './host-check.js';
import { toProblem } from './problem.js';
import type { VerifiedToken } from './token.js';

const CLIENT_MESSAGE_BYTES = 16 * 1024;
const CONNECT_TIMEOUT_MS = 5_000;

export interface LiveEvents {
  close(): Promise<void>;
}

export function attachLiveEvents(server: HttpServer, s: ApiDeps, hostCheck: HostCheck): LiveEvents {
  const io = new Server(server, {
    serveClient: false,
    // As the REST routes' Host check, and a browser page of another origin is refused too.
    allowRequest: (req, callback) =>
      callback(null, hostCheck(req.headers.host) && originAllowed(hostCheck, req.headers.origin)),
    // Clients send nothing but their CONNECT and token: anything larger closes the connection.
    maxHttpBufferSize: CLIENT_MESSAGE_BYTES,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  const events = io.of('/events');

  events.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    s.tokens
      .verify(typeof token === 'string' ? token : '')
      .then((verified) => {
        const ended = sessionEnded(s.db(), verified);
        if (ended) throw ended;
        socket.data.token = verified;
        next();
      })
      .catch((err: unknown) => {
        const { problem } = toProblem(err);
        next(Object.assign(new Error(problem.detail), { data: problem }));
        closeAfterRefusal(socket);
      });
  });

  events.on('connection', (socket) => {
    // The stream only flows to the client: a client that sends an event is not one of ours.
    socket.onAny(() => socket.disconnect(true));
    const since = Number(socket.handshake.auth?.since);
    if (Number.isSafeInteger(since) && since >= 0) {
      const page = s.events.since(since);
      for (const event of page.data) socket.emit('event', event);
      socket.emit('backlog', { truncated: page.truncated, latestIndex: page.latestIndex });
    }
    const expiresIn = (socket.data.token as VerifiedToken).expiresAt - Date.now();
    const expiry = setTimeout(() => socket.disconnect(true), Math.max(0, Math.min(expiresIn, 2 ** 31 - 1)));
    socket.on('disconnect', () => clearTimeout(expiry));
  });

  const unsubscribe = s.events.subscribe((event) => {
    // A change to the admins: sockets whose admin is gone, or whose session ended (a new
    // password, a sign-out), close before anything more is sent.
    if (event.kind === 'entity' && event.collection === 'admins') {
      for (const socket of events.sockets.values()) {
        if (sessionEnded(s.db(), socket.data.token as VerifiedToken)) socket.disconnect(true);
      }
    }
    events.emit('event', event);
  });

  return {
    async close() {
      unsubscribe();
      events.disconnectSockets(true);
      // Closing the engine only: the HTTP server belongs to fastify, which closes it.
      io.engine.close();
    },
  };
}
