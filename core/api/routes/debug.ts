/**
 * `/debug`: test-only fault injection for the Jepsen suite (test/jepsen/). Registered only when
 * the node runs with MESHDESK_FAULT_INJECTION=1 (ApiContext.faults is then present); admins only,
 * like every route. A partition is two cut tables, one on each side.
 */
import { z } from 'zod';
import type { FaultHooks } from '../context.js';
import type { ApiDeps, ZodApp } from '../deps.js';

const MAX_PEERS = 64;

const faultPlan = z.strictObject({
  cut: z.boolean().optional(),
  drop: z.number().min(0).max(1).optional(),
  delayMs: z.number().int().min(0).max(60_000).optional(),
});

const faultsBody = z.strictObject({
  peers: z
    .record(z.string().min(1).max(128), faultPlan)
    .refine((peers) => Object.keys(peers).length <= MAX_PEERS, `at most ${MAX_PEERS} peers`)
    .default({}),
});

const crashBody = z.strictObject({ at: z.enum(['partly-written', 'saved']) });

const faultTable = z.object({ peers: z.record(z.string(), faultPlan) });
/** Answered only when nothing was written: otherwise the process is gone before it answers. */
const crashAnswer = z.object({ crashed: z.boolean(), index: z.number().int().min(0) });

export function debugRoutes(app: ZodApp, s: ApiDeps, faults: FaultHooks): void {
  const tags = ['debug'];
  app.get(
    '/debug/faults',
    {
      schema: {
        tags,
        operationId: 'getPeerFaults',
        summary: 'Test only: the per-peer fault table',
        response: { 200: faultTable },
      },
    },
    async () => ({
      peers: faults.peerFaults(),
    }),
  );

  app.put(
    '/debug/faults',
    {
      schema: {
        tags,
        operationId: 'setPeerFaults',
        summary: 'Test only: replace the per-peer fault table ({} heals)',
        body: faultsBody,
        response: { 200: faultTable },
      },
    },
    async (request) => {
      faults.setPeerFaults(request.body.peers);
      return { peers: faults.peerFaults() };
    },
  );

  app.post(
    '/debug/crash-in-snapshot',
    {
      schema: {
        tags,
        operationId: 'crashInSnapshot',
        summary: 'Test only: take a snapshot and SIGKILL this process at the given step of writing it',
        body: crashBody,
        response: { 200: crashAnswer },
        problems: [503, 504],
      },
    },
    async (request) => {
      faults.crashInNextSnapshot(request.body.at);
      try {
        // Answers only when nothing was written (nothing applied since the last snapshot).
        const { index } = await s.ctx.cluster.snapshot();
        return { crashed: false, index };
      } finally {
        faults.crashInNextSnapshot(undefined);
      }
    },
  );
}
