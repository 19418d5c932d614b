/** socket.io event names of the `/raft` namespace (the handshake's are in handshake.ts). */

/** A frame: an array of Raft messages from the client to the server side, no ack. */
export const RAFT_EVENT = 'raft';
/** A cluster request: (method, payload, ack). */
export const REQUEST_EVENT = 'request';
/** Round-trip measurement: (ack). */
export const PING_EVENT = 'ping';
