/** When a node is ready (core/api/readiness.ts), over the real model applying real commands. */
import { describe, expect, it } from 'vitest';
import { firstAdminCommand } from '../../../core/api/bootstrap.js';
import { toProblem } from '../../../core/api/problem.js';
import { bootstrapApplied, NodeReadiness, startingProblem } from '../../../core/api/readiness.js';
import { encodeCommand, type ModelCommand } from '../../../core/model/commands.js';
import { ModelStateMachine } from '../../../core/model/state-machine.js';

let index = 0;
function apply(sm: ModelStateMachine, command: ModelCommand): void {
  index++;
  sm.apply([{ index, term: 1, data: encodeCommand(command) }], index);
}

const firstAdmin = () => firstAdminCommand({ username: 'admin', password: 'correct horse battery' });

describe('node readiness', () => {
  it('is starting until the model holds an admin', async () => {
    const sm = await ModelStateMachine.create();
    const readiness = new NodeReadiness(() => sm.model);
    expect(readiness.state).toBe('starting');
    // Settings alone (the cluster CA of a bootstrap under way) are not enough.
    apply(sm, { op: 'setSetting', key: 'pki.x', value: 'k', at: new Date(0).toISOString() });
    expect([bootstrapApplied(sm.model), readiness.state]).toEqual([false, 'starting']);
    apply(sm, await firstAdmin());
    expect([bootstrapApplied(sm.model), readiness.state]).toEqual([true, 'up']);
  });

  it('waits for the composition root’s start as well, then stays up', async () => {
    const sm = await ModelStateMachine.create();
    let started = false;
    const readiness = new NodeReadiness(
      () => sm.model,
      () => started,
    );
    apply(sm, await firstAdmin());
    expect(readiness.state).toBe('starting');
    started = true;
    expect(readiness.state).toBe('up');
    // Up is for good: nothing a running node does takes it back.
    started = false;
    sm.restore((await ModelStateMachine.create()).snapshot());
    expect(readiness.state).toBe('up');
  });

  it('answers a route that needs a ready node with 503 STARTING and Retry-After', () => {
    const { problem, headers, unexpected } = toProblem(startingProblem());
    expect(problem).toMatchObject({ status: 503, code: 'STARTING', title: 'Service Unavailable' });
    expect(problem.detail).toMatch(/still starting/);
    expect(headers).toEqual({ 'retry-after': '1' });
    expect(unexpected).toBe(false);
  });
});
