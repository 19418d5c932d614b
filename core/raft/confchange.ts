/**
 * Membership (thesis §4.1, single-server changes): applying one change to a ConfState, checking it
 * first, and the encoding of a change inside a `confChange` log entry.
 */
import type { ConfChange, ConfState, NodeId } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(cc));
}

/** Decodes a change from a committed entry; undefined when the bytes are not a change. */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(data));
    if (typeof value !== 'object' || value === null) return undefined;
    const { type, nodeId, context } = value as Record<string, unknown>;
    if (type !== 'addLearner' && type !== 'addVoter' && type !== 'removeNode') return undefined;
    if (typeof nodeId !== 'string' || nodeId === '') return undefined;
    if (context !== undefined && typeof context !== 'string') return undefined;
    return context === undefined ? { type, nodeId } : { type, nodeId, context };
  } catch {
    return undefined;
  }
}

export const EMPTY_CONF: ConfState = { voters: [], learners: [] };

export function isMember(conf: ConfState, id: NodeId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

/** Why `cc` cannot apply to `conf`, or undefined when it can. */
export function checkConfChange(conf: ConfState, cc: ConfChange): string | undefined {
  const voter = conf.voters.includes(cc.nodeId);
  const learner = conf.learners.includes(cc.nodeId);
  switch (cc.type) {
    case 'addLearner':
      if (voter) return `${cc.nodeId} is a voter; demoting a voter is not supported`;
      if (learner) return `${cc.nodeId} is already a learner`;
      return undefined;
    case 'addVoter':
      if (voter) return `${cc.nodeId} is already a voter`;
      return undefined;
    case 'removeNode':
      if (!voter && !learner) return `${cc.nodeId} is not a member`;
      if (voter && conf.voters.length === 1) return `${cc.nodeId} is the last voter`;
      return undefined;
  }
}

/**
 * The membership after `cc`. The caller has checked it; an invalid change (which every node sees
 * identically) leaves the membership as it was, so apply stays deterministic.
 */
export function applyConfChange(conf: ConfState, cc: ConfChange): ConfState {
  if (checkConfChange(conf, cc) !== undefined) return conf;
  const voters = conf.voters.filter((id) => id !== cc.nodeId);
  const learners = conf.learners.filter((id) => id !== cc.nodeId);
  const context = { ...(conf.context ?? {}) };
  if (cc.type === 'removeNode') {
    delete context[cc.nodeId];
  } else {
    (cc.type === 'addVoter' ? voters : learners).push(cc.nodeId);
    if (cc.context !== undefined) context[cc.nodeId] = cc.context;
  }
  return Object.keys(context).length > 0 ? { voters, learners, context } : { voters, learners };
}
