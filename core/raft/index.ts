export { RaftCore } from './raft.js';
export { bootstrapState, type BootstrapMember } from './bootstrap.js';
export { RaftError, type RaftErrorCode } from './errors.js';
export { decodeConfChange, encodeConfChange } from './confchange.js';
export { seededRng } from './rng.js';
export * from './types.js';
