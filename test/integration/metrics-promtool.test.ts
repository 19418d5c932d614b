/**
 * `GET /api/v1/metrics` of real `meshdesk start` processes (a leader and a follower, after writes,
 * a refusal, reads and a 404, so that every histogram and labelled family has samples) passes
 * Prometheus' own linter, `promtool check metrics`: exit 0 and not one lint line. promtool comes
 * from Debian's `prometheus` package (.ci/run installs it).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerCluster } from '../support/controller-processes.js';

let cluster: ControllerCluster;
let leader: number;
let follower: number;

beforeAll(async () => {
  cluster = await ControllerCluster.start(2);
  leader = await cluster.leaderIndex();
  follower = 1 - leader;
  for (const [i, through] of [leader, follower, leader].entries()) {
    expect((await cluster.call(through, 'POST', '/identities', { name: `metered-${i}` })).status).toBe(201);
  }
  expect((await cluster.call(follower, 'POST', '/identities', { name: 'metered-0' })).status).toBe(409);
  expect((await cluster.call(follower, 'GET', '/identities?limit=5')).status).toBe(200);
  expect((await cluster.call(leader, 'GET', '/no-such-route')).status).toBe(404);
}, 180_000);

afterAll(async () => {
  await cluster?.close();
});

/** Runs `promtool check metrics` with the text on stdin. */
async function promtool(text: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new Error(`cannot run promtool (Debian's prometheus package has it): ${err.message}`)),
    );
    child.once('close', resolve);
  });
  child.stdin.end(text);
  return { code: await exited, output };
}

async function scrape(i: number): Promise<string> {
  const answer = await cluster.call(i, 'GET', '/metrics');
  expect(answer.status).toBe(200);
  return answer.body as string;
}

/** The sample count of a histogram family, summed over its series. */
function histogramCount(text: string, name: string): number {
  const counts = [...text.matchAll(new RegExp(`^${name}_count(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))];
  return counts.reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('GET /metrics', () => {
  it.each([
    ['the leader', () => leader],
    ['a follower', () => follower],
  ])('of %s passes promtool check metrics', async (_who, which) => {
    const text = await scrape(which());
    for (const histogram of [
      'meshdesk_http_request_duration_seconds',
      'meshdesk_raft_persist_seconds',
      'meshdesk_model_apply_seconds',
    ]) {
      expect(histogramCount(text, histogram), histogram).toBeGreaterThan(0);
    }
    expect(text).toMatch(/^meshdesk_peer_connected\{[^}]*peer="/m);
    const { code, output } = await promtool(text);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('has proposals timed through the node that took them', async () => {
    const text = await scrape(follower);
    expect(histogramCount(text, 'meshdesk_proposal_duration_seconds')).toBeGreaterThan(0);
    expect(text).toMatch(/^meshdesk_proposals_total\{[^}]*outcome="NAME_TAKEN"[^}]*\} 1$/m);
  });

  it('keeps _total for counters only, and counts active handles, requests and resources', async () => {
    const text = await scrape(leader);
    const types = new Map(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    for (const [name, type] of types) {
      expect(name.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
    }
    for (const thing of ['handles', 'requests', 'resources']) {
      expect(types.get(`meshdesk_nodejs_active_${thing}_all`), thing).toBe('gauge');
      expect(types.has(`meshdesk_nodejs_active_${thing}_total`), thing).toBe(false);
    }
    // A node listens on sockets: it always holds a few handles.
    const handles = Number(/^meshdesk_nodejs_active_handles_all\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
    expect(handles).toBeGreaterThan(0);
  });
});
