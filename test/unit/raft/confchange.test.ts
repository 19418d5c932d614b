/** Single-server membership changes (thesis §4.1): checking, applying and encoding a change. */
import { describe, expect, it } from 'vitest';

import {
  applyConfChange,
  checkConfChange,
  decodeConfChange,
  encodeConfChange,
  isMember,
} from '../../../core/raft/confchange.js';
import type { ConfChange, ConfState } from '../../../core/raft/types.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const conf: ConfState = { voters: ['a', 'b', 'c'], learners: ['l'] };

describe('encodeConfChange / decodeConfChange', () => {
  it('round-trips a change without context', () => {
    const cc: ConfChange = { type: 'removeNode', nodeId: 'b' };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('round-trips a change with context', () => {
    const cc: ConfChange = { type: 'addVoter', nodeId: 'd', context: 'tcp://10.0.0.4:7000' };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('decodes no context property when there was none', () => {
    const cc = decodeConfChange(encodeConfChange({ type: 'addLearner', nodeId: 'd' }));
    expect(cc === undefined ? false : 'context' in cc).toBe(false);
  });

  it('keeps only the fields of a change', () => {
    expect(decodeConfChange(bytes('{"type":"addLearner","nodeId":"d","extra":1}'))).toEqual({
      type: 'addLearner',
      nodeId: 'd',
    });
  });

  it.each([
    ['bytes that are not JSON', '\u00ff{not json'],
    ['an empty entry', ''],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a string', '"addVoter"'],
    ['an array', '["addVoter","d"]'],
    ['an unknown type', '{"type":"promote","nodeId":"d"}'],
    ['a missing node id', '{"type":"addVoter"}'],
    ['an empty node id', '{"type":"addVoter","nodeId":""}'],
    ['a numeric node id', '{"type":"addVoter","nodeId":4}'],
    ['a context that is not a string', '{"type":"addVoter","nodeId":"d","context":{"addr":"x"}}'],
  ])('rejects %s', (_what, raw) => {
    expect(decodeConfChange(bytes(raw))).toBeUndefined();
  });

  it('rejects bytes that are not UTF-8 JSON', () => {
    expect(decodeConfChange(new Uint8Array([0xff, 0xfe, 0x00, 0x7b]))).toBeUndefined();
  });
});

describe('isMember', () => {
  it('counts voters and learners, nobody else', () => {
    expect([isMember(conf, 'a'), isMember(conf, 'l'), isMember(conf, 'x')]).toEqual([true, true, false]);
  });
});

describe('checkConfChange', () => {
  it('accepts adding a new learner or voter', () => {
    expect(checkConfChange(conf, { type: 'addLearner', nodeId: 'd' })).toBeUndefined();
    expect(checkConfChange(conf, { type: 'addVoter', nodeId: 'd' })).toBeUndefined();
  });

  it('accepts promoting a learner to voter', () => {
    expect(checkConfChange(conf, { type: 'addVoter', nodeId: 'l' })).toBeUndefined();
  });

  it('accepts removing a voter or a learner', () => {
    expect(checkConfChange(conf, { type: 'removeNode', nodeId: 'b' })).toBeUndefined();
    expect(checkConfChange(conf, { type: 'removeNode', nodeId: 'l' })).toBeUndefined();
  });

  it('refuses adding a voter that is already one', () => {
    expect(checkConfChange(conf, { type: 'addVoter', nodeId: 'a' })).toBe('a is already a voter');
  });

  it('refuses adding a learner that is already one', () => {
    expect(checkConfChange(conf, { type: 'addLearner', nodeId: 'l' })).toBe('l is already a learner');
  });

  it('refuses demoting a voter to learner', () => {
    expect(checkConfChange(conf, { type: 'addLearner', nodeId: 'b' })).toBe(
      'b is a voter; demoting a voter is not supported',
    );
  });

  it('refuses removing a node that is not a member', () => {
    expect(checkConfChange(conf, { type: 'removeNode', nodeId: 'x' })).toBe('x is not a member');
  });

  it('refuses removing the last voter', () => {
    const one: ConfState = { voters: ['a'], learners: ['l'] };
    expect(checkConfChange(one, { type: 'removeNode', nodeId: 'a' })).toBe('a is the last voter');
  });

  it('accepts removing a learner beside the last voter', () => {
    const one: ConfState = { voters: ['a'], learners: ['l'] };
    expect(checkConfChange(one, { type: 'removeNode', nodeId: 'l' })).toBeUndefined();
  });
});

describe('applyConfChange', () => {
  it('adds a learner', () => {
    expect(applyConfChange(conf, { type: 'addLearner', nodeId: 'd' })).toEqual({
      voters: ['a', 'b', 'c'],
      learners: ['l', 'd'],
    });
  });

  it('adds a voter', () => {
    expect(applyConfChange(conf, { type: 'addVoter', nodeId: 'd' })).toEqual({
      voters: ['a', 'b', 'c', 'd'],
      learners: ['l'],
    });
  });

  it('promotes a learner: it leaves the learners', () => {
    expect(applyConfChange(conf, { type: 'addVoter', nodeId: 'l' })).toEqual({
      voters: ['a', 'b', 'c', 'l'],
      learners: [],
    });
  });

  it('removes a voter', () => {
    expect(applyConfChange(conf, { type: 'removeNode', nodeId: 'b' })).toEqual({
      voters: ['a', 'c'],
      learners: ['l'],
    });
  });

  it('removes a learner', () => {
    expect(applyConfChange(conf, { type: 'removeNode', nodeId: 'l' })).toEqual({
      voters: ['a', 'b', 'c'],
      learners: [],
    });
  });

  it('does not modify the membership it is given', () => {
    const before: ConfState = { voters: ['a', 'b'], learners: ['l'], context: { a: 'x' } };
    applyConfChange(before, { type: 'addVoter', nodeId: 'l', context: 'y' });
    applyConfChange(before, { type: 'removeNode', nodeId: 'a' });
    expect(before).toEqual({ voters: ['a', 'b'], learners: ['l'], context: { a: 'x' } });
  });

  it.each<[string, ConfChange]>([
    ['adding an existing voter', { type: 'addVoter', nodeId: 'a' }],
    ['adding an existing learner', { type: 'addLearner', nodeId: 'l' }],
    ['demoting a voter', { type: 'addLearner', nodeId: 'a' }],
    ['removing a non-member', { type: 'removeNode', nodeId: 'x' }],
  ])('leaves the membership unchanged (the same object) when %s', (_what, cc) => {
    expect(applyConfChange(conf, cc)).toBe(conf);
  });

  it('leaves the membership unchanged when removing the last voter', () => {
    const one: ConfState = { voters: ['a'], learners: [] };
    expect(applyConfChange(one, { type: 'removeNode', nodeId: 'a' })).toBe(one);
  });

  it('records the context of an added node', () => {
    expect(applyConfChange(conf, { type: 'addLearner', nodeId: 'd', context: 'addr-d' })).toEqual({
      voters: ['a', 'b', 'c'],
      learners: ['l', 'd'],
      context: { d: 'addr-d' },
    });
  });

  it('keeps the context of a learner promoted without a new one', () => {
    const withCtx: ConfState = { voters: ['a'], learners: ['l'], context: { l: 'addr-l' } };
    expect(applyConfChange(withCtx, { type: 'addVoter', nodeId: 'l' })).toEqual({
      voters: ['a', 'l'],
      learners: [],
      context: { l: 'addr-l' },
    });
  });

  it('replaces the context of a learner promoted with a new one', () => {
    const withCtx: ConfState = { voters: ['a'], learners: ['l'], context: { l: 'old' } };
    expect(applyConfChange(withCtx, { type: 'addVoter', nodeId: 'l', context: 'new' })).toEqual({
      voters: ['a', 'l'],
      learners: [],
      context: { l: 'new' },
    });
  });

  it('removes the context of a removed node and keeps the others', () => {
    const withCtx: ConfState = { voters: ['a', 'b'], learners: [], context: { a: 'addr-a', b: 'addr-b' } };
    expect(applyConfChange(withCtx, { type: 'removeNode', nodeId: 'b' })).toEqual({
      voters: ['a'],
      learners: [],
      context: { a: 'addr-a' },
    });
  });

  it('drops the context property once no node has one', () => {
    const withCtx: ConfState = { voters: ['a', 'b'], learners: [], context: { b: 'addr-b' } };
    const next = applyConfChange(withCtx, { type: 'removeNode', nodeId: 'b' });
    expect(next).toEqual({ voters: ['a'], learners: [] });
    expect('context' in next).toBe(false);
  });
});
