/**
 * The set workload: each `add` creates one identity named after its element (identities without
 * role attributes are among the cheapest creates); `readSet` lists every element, paged, on one
 * node: the first page at a linearizable read point, the rest at least as new (minIndex), so the
 * pages of a final read (nothing writes then) describe one state.
 */
import {
  CONTRACT,
  etagProblem,
  perform,
  raftIndexProblem,
  type ApiClient,
  type Completion,
} from '../client.js';
import type { HttpAnswer } from '../http.js';
import type { ClientState } from './client-state.js';

const PAGE = 1000;
const FILTER = encodeURIComponent('name contains "jset-"');

export async function runAdd(api: ApiClient, client: ClientState, element: string): Promise<Completion> {
  return perform(
    api,
    client.node,
    'POST',
    '/identities',
    { body: { name: element } },
    {
      ok: [201],
      output: (answer) => {
        const body = answer.json as { name?: unknown; revision?: unknown } | undefined;
        if (body?.name !== element) {
          return { error: `${CONTRACT}: created ${String(body?.name)}, asked for ${element}` };
        }
        const error = etagProblem(answer, body.revision) ?? raftIndexProblem(answer);
        return error ? { error } : {};
      },
    },
  );
}

interface Page {
  readonly names: string[];
  readonly total: number;
  readonly index: string | undefined;
}

export async function runReadSet(api: ApiClient, node: number): Promise<Completion> {
  const elements: string[] = [];
  let minIndex: string | undefined;
  for (let offset = 0; ; offset += PAGE) {
    const point = minIndex === undefined ? 'consistency=linearizable' : `minIndex=${minIndex}`;
    const path = `/identities?filter=${FILTER}&sort=name&limit=${PAGE}&offset=${offset}&${point}`;
    const done = await perform(api, node, 'GET', path, {}, { ok: [200], output: listPage });
    if (done.outcome !== 'ok') return done;
    // A read that broke the contract tells nothing about the set: indeterminate, and counted.
    if (done.error) return { outcome: 'info', status: done.status, error: done.error };
    const page = done.output as Page;
    elements.push(...page.names);
    minIndex ??= page.index;
    if (page.names.length < PAGE || elements.length >= page.total) {
      return { outcome: 'ok', status: 200, output: elements };
    }
  }
}

function listPage(answer: HttpAnswer): { output?: Page; error?: string } {
  const body = answer.json as { data?: { name?: unknown }[]; meta?: { total?: unknown } } | undefined;
  if (!Array.isArray(body?.data) || typeof body.meta?.total !== 'number') {
    return { error: `${CONTRACT}: list answer without data/meta: ${answer.text.slice(0, 200)}` };
  }
  const index = answer.headers['x-raft-index'];
  return {
    output: {
      names: body.data.map((e) => String(e.name)),
      total: body.meta.total,
      index: typeof index === 'string' ? index : undefined,
    },
  };
}
