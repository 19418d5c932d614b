/**
 * NetnsLan on real network namespaces: reachability, partitions (of established connections too),
 * the pid `spawn` returns, and that nothing is left behind. Each host runs a small agent: an HTTP
 * control server on its API address, a line sink on its cluster address, and from inside its
 * namespace it dials peers when asked. Skipped, with the one-line reason, where namespaces cannot
 * be made (not root, no iproute2).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostPort } from '../jepsen/host.js';
import { NetnsLan } from '../jepsen/netns.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const unavailable = await NetnsLan.available();
if (unavailable !== undefined) console.log(`netns tests skipped: ${unavailable}`);

/** argv: own address, API port, sink port. Answers JSON; /reach dials a peer's API from in here. */
const AGENT = `
const http = require('node:http');
const net = require('node:net');
const [address, apiPort, sinkPort] = process.argv.slice(1);
const received = [];
let held;
net.createServer((socket) => {
  let partial = '';
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    const lines = (partial + chunk).split('\\n');
    partial = lines.pop();
    received.push(...lines);
  });
}).listen(Number(sinkPort), address);
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://agent');
  const arg = (name) => url.searchParams.get(name);
  let answered = false;
  const reply = (body) => { if (!answered) { answered = true; res.end(JSON.stringify(body)); } };
  if (url.pathname === '/whoami') return reply({ pid: process.pid, address });
  if (url.pathname === '/received') return reply(received);
  if (url.pathname === '/reach') {
    const options = { host: arg('host'), port: Number(apiPort), path: '/whoami', agent: false, timeout: 300 };
    const dial = http.get(options, (peer) => {
      let body = '';
      peer.on('data', (chunk) => (body += chunk));
      peer.on('end', () => reply({ ok: true, answer: JSON.parse(body) }));
    });
    dial.on('timeout', () => dial.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    dial.on('error', (err) => reply({ ok: false, error: err.code ?? err.message }));
    return;
  }
  if (url.pathname === '/hold') {
    held = net.connect(Number(sinkPort), arg('host'), () => reply({ ok: true }));
    held.on('error', (err) => reply({ ok: false, error: err.code }));
    return;
  }
  if (url.pathname === '/send') {
    held.write(arg('line') + '\\n');
    return reply({ ok: true });
  }
  res.statusCode = 404;
  res.end();
}).listen(Number(apiPort), address);
`;

interface Reach {
  readonly ok: boolean;
  readonly error?: string;
  readonly answer?: { pid: number; address: string };
}

/** GET from the runner (root namespace); rejects on error or on no answer within timeoutMs. */
function get<T>(at: HostPort, path: string, timeoutMs = 1000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: at.host, port: at.port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Checks that `condition` stays false for the whole window: how one observes a non-delivery. */
async function staysFalse(condition: () => Promise<boolean>, windowMs: number): Promise<boolean> {
  const end = Date.now() + windowMs;
  while (Date.now() < end) {
    if (await condition()) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !(await condition());
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function ourNames(prefix: string): Promise<string[]> {
  const [netns, links] = await Promise.all([run('ip', ['netns', 'list']), run('ip', ['-o', 'link', 'show'])]);
  return `${netns.stdout}\n${links.stdout}`
    .split('\n')
    .filter((line) => line.includes(prefix))
    .map((line) => line.trim());
}

describe.skipIf(unavailable !== undefined)('NetnsLan: a LAN of network namespaces', () => {
  let lan: NetnsLan;
  const agents: ChildProcess[] = [];

  const reach = (from: number, to: number): Promise<Reach> =>
    get<Reach>(lan.api(from), `/reach?host=${lan.address(to)}`);
  const received = (i: number): Promise<string[]> => get<string[]>(lan.api(i), '/received');
  const blackholes = async (i: number): Promise<string[]> => {
    const { stdout } = await run('ip', ['-n', lan.namespace(i), 'route', 'show', 'type', 'blackhole']);
    return stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.trim().split(/\s+/)[1] ?? '')
      .sort();
  };

  beforeAll(async () => {
    lan = await NetnsLan.create(3);
    for (let i = 0; i < 3; i += 1) {
      const args = ['-e', AGENT, lan.address(i), String(lan.api(i).port), String(lan.cluster(i).port)];
      agents.push(lan.spawn(i, process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    await Promise.all(
      agents.map((_, i) =>
        waitFor(() => get(lan.api(i), '/whoami', 300).then(() => true), `agent ${i} answering`, 5000),
      ),
    );
  });

  afterAll(async () => {
    for (const agent of agents) if (!exited(agent)) agent.kill('SIGKILL');
    await lan?.close();
  });

  it('the runner reaches every host, and every host reaches the others', async () => {
    for (let from = 0; from < 3; from += 1) {
      expect(await get<{ address: string }>(lan.api(from), '/whoami')).toMatchObject({
        address: lan.address(from),
      });
      for (let to = 0; to < 3; to += 1) {
        if (to === from) continue;
        expect(await reach(from, to), `${from} -> ${to}`).toMatchObject({
          ok: true,
          answer: { address: lan.address(to) },
        });
      }
    }
  });

  it('spawn returns the pid of the command itself, running inside its host namespace', async () => {
    for (let i = 0; i < 3; i += 1) {
      const { pid } = await get<{ pid: number }>(lan.api(i), '/whoami');
      expect(pid).toBe(agents[i]?.pid);
      const { stdout } = await run('ip', ['netns', 'identify', String(pid)]);
      expect(stdout.trim()).toBe(lan.namespace(i));
    }
  });

  it('a partition stops an established connection and new ones across groups only; heal restores both', async () => {
    expect(await get(lan.api(0), `/hold?host=${lan.address(1)}`)).toEqual({ ok: true });
    await get(lan.api(0), '/send?line=before');
    await waitFor(async () => (await received(1)).includes('before'), 'the line before the partition', 2000);

    await lan.partition([[0], [1, 2]]);
    await get(lan.api(0), '/send?line=during');
    for (const [from, to] of [
      [0, 1],
      [1, 0],
      [0, 2],
      [2, 0],
    ] as const) {
      expect((await reach(from, to)).ok, `${from} -> ${to} while cut`).toBe(false);
    }
    expect(await reach(1, 2)).toMatchObject({ ok: true });
    expect(await reach(2, 1)).toMatchObject({ ok: true });
    for (let i = 0; i < 3; i += 1) await get(lan.api(i), '/whoami', 300);
    expect(
      await staysFalse(async () => (await received(1)).includes('during'), 400),
      'the established connection delivered across the partition',
    ).toBe(true);

    await lan.heal();
    // TCP retransmits the queued line on its own once the route is back.
    await waitFor(
      async () => (await received(1)).includes('during'),
      'the line sent during the partition',
      5000,
    );
    expect(await reach(0, 1)).toMatchObject({ ok: true });
    expect(await reach(2, 0)).toMatchObject({ ok: true });
  });

  it('partition and heal are idempotent and leave exactly the routes of the groups asked for', async () => {
    await lan.partition([[0], [1, 2]]);
    await lan.partition([[0], [1, 2]]);
    expect(await blackholes(0)).toEqual([lan.address(1), lan.address(2)]);
    expect(await blackholes(1)).toEqual([lan.address(0)]);
    expect(await blackholes(2)).toEqual([lan.address(0)]);

    // Host 2 is in no group: cut off from both others.
    await lan.partition([[0, 1]]);
    expect(await blackholes(0)).toEqual([lan.address(2)]);
    expect(await blackholes(1)).toEqual([lan.address(2)]);
    expect(await blackholes(2)).toEqual([lan.address(0), lan.address(1)]);
    expect(await reach(0, 1)).toMatchObject({ ok: true });

    await lan.heal();
    await lan.heal();
    for (let i = 0; i < 3; i += 1) expect(await blackholes(i)).toEqual([]);
    await expect(lan.partition([[0], [0, 1]])).rejects.toThrow(/two groups/);
    await expect(lan.partition([[3]])).rejects.toThrow(RangeError);
  });

  it('SIGSTOP on the returned pid stops the server itself, SIGCONT resumes it', async () => {
    const pid = agents[2]?.pid ?? 0;
    process.kill(pid, 'SIGSTOP');
    // Field 3 of /proc/<pid>/stat is the state; T is stopped.
    await waitFor(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'T', 'stopped', 2000);
    await expect(get(lan.api(2), '/whoami', 300)).rejects.toThrow(/no answer/);
    expect(await reach(1, 2)).toMatchObject({ ok: false, error: 'TIMEOUT' });

    process.kill(pid, 'SIGCONT');
    await waitFor(() => get(lan.api(2), '/whoami', 300).then(() => true), 'answering after SIGCONT', 2000);
  });

  it('close() kills what still runs inside and removes every namespace, link and address, twice over', async () => {
    const prefix = lan.namespace(0).replace(/0$/, '');
    expect(await ourNames(prefix)).toHaveLength(3 + 3 + 1);
    await lan.close();
    await lan.close();
    await waitFor(() => agents.every(exited), 'the agents killed by close()', 2000);
    expect(agents.map((a) => a.signalCode)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL']);
    expect(await ourNames(prefix)).toEqual([]);
    const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show']);
    expect(stdout).not.toContain(`${lan.subnet}.`);
    expect(() => lan.spawn(0, 'true', [], {})).toThrow(/closed/);
  });
});

describe.skipIf(unavailable !== undefined)('NetnsLan.create', () => {
  it('first removes namespaces and links of runs whose process is dead, and only those', async () => {
    const deadPid = spawnSync('true').pid;
    const dead = `mdj${deadPid.toString(36)}-0-9`;
    await run('ip', ['netns', 'add', dead]);
    await run('ip', ['link', 'add', dead, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', dead]);
    await run('ip', ['link', 'add', `mdj${deadPid.toString(36)}-0-br`, 'type', 'bridge']);
    // A process the crashed run left inside its namespace, and a live run's namespace (vitest's pid).
    const orphan = spawn('ip', ['netns', 'exec', dead, 'sleep', '30'], { stdio: 'ignore' });
    const alive = `mdj${process.ppid.toString(36)}-0-9`;
    await run('ip', ['netns', 'add', alive]);
    try {
      await waitFor(async () => (await run('ip', ['netns', 'pids', dead])).stdout.trim() !== '', 'orphan in');
      const lan = await NetnsLan.create(1);
      await lan.close();
      expect(await ourNames(`mdj${deadPid.toString(36)}-`)).toEqual([]);
      await waitFor(() => exited(orphan), 'the orphan killed', 2000);
      expect(await ourNames(alive)).toHaveLength(1);
    } finally {
      if (!exited(orphan)) orphan.kill('SIGKILL');
      await run('ip', ['netns', 'del', alive]);
      for (const leftover of [dead, `mdj${deadPid.toString(36)}-0-br`]) {
        await run('ip', ['link', 'del', leftover]).catch(() => undefined);
      }
      await run('ip', ['netns', 'del', dead]).catch(() => undefined);
    }
  });
});
