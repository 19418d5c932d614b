/**
 * The simulator's own account of membership, kept apart from the core's so that the checker does
 * not trust the code it checks: single-server changes applied in log order, where a change that
 * makes no sense for the membership of the moment changes nothing (every node sees it the same).
 */
import type { ConfChange, ConfState, NodeId } from '../../core/raft/types.js';

export function applyChange(conf: ConfState, cc: ConfChange): ConfState {
  const voter = conf.voters.includes(cc.nodeId);
  const learner = conf.learners.includes(cc.nodeId);
  const voters = conf.voters.filter((id) => id !== cc.nodeId);
  const learners = conf.learners.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case 'addLearner':
      if (voter || learner) return conf;
      return { voters, learners: [...learners, cc.nodeId] };
    case 'addVoter':
      if (voter) return conf;
      return { voters: [...voters, cc.nodeId], learners };
    case 'removeNode':
      if (!voter && !learner) return conf;
      if (voter && conf.voters.length === 1) return conf;
      return { voters, learners };
  }
}

export function quorum(voters: readonly NodeId[]): number {
  return Math.floor(voters.length / 2) + 1;
}

export function sameMembers(a: ConfState, b: ConfState): boolean {
  // Ids are unique within a list, so equal lengths and inclusion make equal sets.
  const same = (x: readonly NodeId[], y: readonly NodeId[]): boolean =>
    x.length === y.length && x.every((id) => y.includes(id));
  return same(a.voters, b.voters) && same(a.learners, b.learners);
}

export function describeConf(conf: ConfState): string {
  const learners = conf.learners.length > 0 ? ` learners [${conf.learners.join(',')}]` : '';
  return `voters [${conf.voters.join(',')}]${learners}`;
}
