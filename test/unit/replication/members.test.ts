/**
 * The member information a membership carries (core/replication/members.ts): JSON written when a
 * member is added, read back leniently, so that a context without an address names no member.
 */
import { describe, expect, it } from 'vitest';
import type { ConfState } from '../../../core/raft/types.js';
import { encodeMemberInfo, memberAddress, memberInfo } from '../../../core/replication/members.js';

const conf = (context: Record<string, string> | undefined): ConfState => ({
  voters: ['n1', 'n2'],
  learners: [],
  ...(context ? { context } : {}),
});

describe('member information', () => {
  it('reads back what was encoded, name and API URL included', () => {
    const info = { address: '10.0.0.1:7401', name: 'desk-1', apiUrl: 'https://10.0.0.1:8443' };
    const c = conf({ n1: encodeMemberInfo(info) });
    expect(memberInfo(c, 'n1')).toEqual(info);
    expect(memberAddress(c, 'n1')).toBe('10.0.0.1:7401');
  });

  it('reads an address alone', () => {
    const c = conf({ n1: encodeMemberInfo({ address: '10.0.0.1:7401' }) });
    expect(memberInfo(c, 'n1')).toEqual({ address: '10.0.0.1:7401' });
  });

  it('knows nothing of a member without a context, or of a membership without contexts', () => {
    const c = conf({ n1: encodeMemberInfo({ address: '10.0.0.1:7401' }) });
    expect(memberInfo(c, 'n2')).toBeUndefined();
    expect(memberAddress(c, 'n2')).toBeUndefined();
    expect(memberInfo(conf(undefined), 'n1')).toBeUndefined();
  });

  it.each([
    ['not JSON', 'host:7401'],
    ['JSON without an address', JSON.stringify({ name: 'desk-1' })],
    ['an address that is not a string', JSON.stringify({ address: 7401 })],
    ['JSON that is not an object', 'null'],
  ])('reads a context that is %s as no member information', (_, raw) => {
    const c = conf({ n1: raw });
    expect(memberInfo(c, 'n1')).toBeUndefined();
    expect(memberAddress(c, 'n1')).toBeUndefined();
  });
});
