/**
 * What the membership carries about each member: the per-node context string of a ConfState is
 * JSON of this shape, written when the member is added.
 */
import type { ConfState, NodeId } from '../raft/types.js';

export interface MemberInfo {
  /** host:port of the member's cluster listener. */
  readonly address: string;
  /** Human name shown in the UI. */
  readonly name?: string;
  /** Base URL of the member's REST API. */
  readonly apiUrl?: string;
}

export function encodeMemberInfo(info: MemberInfo): string {
  return JSON.stringify(info);
}

export function memberInfo(conf: ConfState, id: NodeId): MemberInfo | undefined {
  const raw = conf.context?.[id];
  if (raw === undefined) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<MemberInfo>;
    return typeof value.address === 'string' ? (value as MemberInfo) : undefined;
  } catch {
    return undefined;
  }
}

export function memberAddress(conf: ConfState, id: NodeId): string | undefined {
  return memberInfo(conf, id)?.address;
}
