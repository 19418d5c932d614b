/** Majority arithmetic over the voters (§5.2 elections, §5.3 commitment). */
import type { NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/** The largest index that a majority of `voters` has matched. */
export function committedIndex(voters: readonly NodeId[], match: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matched = voters.map(match).sort((a, b) => b - a);
  return matched[Math.floor(voters.length / 2)] ?? 0;
}

export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const quorum = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  if (granted >= quorum) return 'won';
  if (rejected > voters.length - quorum) return 'lost';
  return 'pending';
}

export function hasQuorum(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  let count = 0;
  for (const id of voters) if (active(id)) count++;
  return count >= Math.floor(voters.length / 2) + 1;
}
