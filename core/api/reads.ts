/**
 * The read point of a request: `minIndex` waits (bounded) until this node has applied that index;
 * `consistency=linearizable` asks the leader for its commit index (ReadIndex) and waits for it.
 * Then the route reads this node's current database, re-read per request because a snapshot
 * restore replaces it.
 */
import { ReplicaError } from '../replication/errors.js';
import type { Replica } from '../replication/replica.js';
import { ApiProblem } from './problem.js';

export interface ReadPoint {
  readonly minIndex?: number | undefined;
  readonly consistency?: 'local' | 'linearizable' | undefined;
}

/** Waits as the request asks; returns the index the read is at least as new as. */
export async function awaitReadPoint(replica: Replica, point: ReadPoint, boundMs: number): Promise<number> {
  let index = replica.appliedIndex();
  if (point.minIndex !== undefined && point.minIndex > index) {
    try {
      await replica.waitForIndex(point.minIndex, boundMs);
    } catch (err) {
      if (err instanceof ReplicaError && err.code === 'TIMEOUT') {
        throw new ApiProblem(
          504,
          'INDEX_NOT_APPLIED',
          `this node had not applied index ${point.minIndex} within ${boundMs} ms (applied: ${replica.appliedIndex()})`,
        );
      }
      throw err;
    }
  }
  if (point.consistency === 'linearizable') {
    try {
      await replica.read('linearizable');
    } catch (err) {
      if (err instanceof ReplicaError && err.code === 'TIMEOUT') {
        throw new ApiProblem(
          504,
          'READ_INDEX_TIMEOUT',
          `no read index from the leader in time: ${err.message}`,
        );
      }
      throw err;
    }
  }
  index = replica.appliedIndex();
  return index;
}
