/** Majority arithmetic (thesis §3.4 elections, §3.5/§3.6.2 commitment). */
import { describe, expect, it } from 'vitest';

import { committedIndex, hasQuorum, voteResult } from '../../../core/raft/quorum.js';
import type { NodeId } from '../../../core/raft/types.js';

const matchOf =
  (match: Record<NodeId, number>) =>
  (id: NodeId): number =>
    match[id] ?? 0;

const votesOf = (votes: Record<NodeId, boolean>): Map<NodeId, boolean> => new Map(Object.entries(votes));

describe('committedIndex (§3.5: an entry is committed once a majority stores it)', () => {
  it('is the largest index a majority of three has matched', () => {
    expect(committedIndex(['a', 'b', 'c'], matchOf({ a: 5, b: 3, c: 1 }))).toBe(3);
  });

  it('needs three of four voters in an even cluster', () => {
    expect(committedIndex(['a', 'b', 'c', 'd'], matchOf({ a: 5, b: 4, c: 3, d: 2 }))).toBe(3);
  });

  it('needs three of five voters', () => {
    expect(committedIndex(['a', 'b', 'c', 'd', 'e'], matchOf({ a: 9, b: 9, c: 1, d: 7, e: 2 }))).toBe(7);
  });

  it('is the only voter’s match in a cluster of one', () => {
    expect(committedIndex(['a'], matchOf({ a: 4 }))).toBe(4);
  });

  it('compares indexes as numbers, not as strings', () => {
    expect(committedIndex(['a', 'b', 'c'], matchOf({ a: 9, b: 10, c: 100 }))).toBe(10);
  });

  it('counts only voters: a learner that holds everything commits nothing', () => {
    const match = matchOf({ a: 8, b: 1, c: 1, learner: 8 });
    expect(committedIndex(['a', 'b', 'c'], match)).toBe(1);
  });

  it('is 0 with no voters', () => {
    expect(committedIndex([], matchOf({}))).toBe(0);
  });
});

describe('voteResult (§3.4: a candidate wins with votes from a majority)', () => {
  const three = ['a', 'b', 'c'];
  const four = ['a', 'b', 'c', 'd'];

  it('is won with a majority of grants', () => {
    expect(voteResult(three, votesOf({ a: true, b: true }))).toBe('won');
  });

  it('is pending while the outcome is open', () => {
    expect(voteResult(three, votesOf({ a: true }))).toBe('pending');
    expect(voteResult(three, votesOf({ a: true, b: false }))).toBe('pending');
  });

  it('is lost once the rejections leave no majority possible', () => {
    expect(voteResult(three, votesOf({ a: true, b: false, c: false }))).toBe('lost');
    expect(voteResult(three, votesOf({ b: false, c: false }))).toBe('lost');
  });

  it('needs three grants of four: two and two is lost', () => {
    expect(voteResult(four, votesOf({ a: true, b: true }))).toBe('pending');
    expect(voteResult(four, votesOf({ a: true, b: true, c: false }))).toBe('pending');
    expect(voteResult(four, votesOf({ a: true, b: true, c: false, d: false }))).toBe('lost');
  });

  it('ignores votes from non-voters', () => {
    expect(voteResult(three, votesOf({ a: true, x: true, y: true }))).toBe('pending');
    expect(voteResult(three, votesOf({ a: true, x: false, y: false }))).toBe('pending');
  });

  it('is won at once by the only voter', () => {
    expect(voteResult(['a'], votesOf({ a: true }))).toBe('won');
  });
});

describe('hasQuorum (thesis §6.2 check quorum)', () => {
  it('holds with a majority of voters active', () => {
    expect(hasQuorum(['a', 'b', 'c'], (id) => id !== 'c')).toBe(true);
  });

  it('does not hold with a minority active', () => {
    expect(hasQuorum(['a', 'b', 'c'], (id) => id === 'a')).toBe(false);
  });

  it('does not hold with half of an even cluster active', () => {
    expect(hasQuorum(['a', 'b', 'c', 'd'], (id) => id === 'a' || id === 'b')).toBe(false);
  });
});
