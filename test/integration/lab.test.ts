/**
 * `meshdesk lab` as a newcomer runs it: two controllers that form one cluster, a sample model to
 * look at, and everything gone (processes and temporary data) after SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD } from '../support/controller-processes.js';
import { freePortBlock } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

const BIN = new URL('../../bin/meshdesk.js', import.meta.url).pathname;

describe('meshdesk lab', () => {
  it('runs a seeded two-node cluster with two routers, and cleans up on SIGTERM', async () => {
    // The lab uses P+i (API), P+100+i (cluster) and P+201… (router links).
    const basePort = await freePortBlock(210);
    const lab = spawn(
      process.execPath,
      [BIN, 'lab', '--controllers', '2', '--routers', '2', '--base-port', String(basePort)],
      {
        env: { ...process.env, MESHDESK_ADMIN_PASSWORD: ADMIN_PASSWORD, MESHDESK_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    lab.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    lab.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => lab.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => {
          if (lab.exitCode !== null) throw new Error(`lab exited: ${stderr}`);
          return stdout.includes('Ctrl-C stops the lab');
        },
        'the lab ready',
        90_000,
        100,
      );
      const urls = [...stdout.matchAll(/node-\d: (http:\/\/\S+)\//g)].map((m) => m[1] as string);
      expect(urls).toEqual([`http://127.0.0.1:${basePort}`, `http://127.0.0.1:${basePort + 1}`]);
      expect(stdout).toMatch(/log in as admin \/ \(MESHDESK_ADMIN_PASSWORD\)/);

      const second = urls[1] as string;
      const login = await fetch(`${second}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      const { token } = (await login.json()) as { token: string };
      interface Page {
        meta: { total: number };
        members: { voter: boolean }[];
        data: { dialerName: string; acceptorName: string }[];
      }
      const get = async (path: string): Promise<Page> => {
        const res = await fetch(`${second}/api/v1${path}?consistency=linearizable`, {
          headers: { authorization: `Bearer ${token}` },
        });
        return (await res.json()) as Page;
      };
      expect((await get('/identities')).meta.total).toBe(3);
      expect((await get('/service-policies')).meta.total).toBe(2);
      const cluster = await get('/cluster');
      expect(cluster.members.filter((m) => m.voter)).toHaveLength(2);

      // The routers link to each other; both controllers learn the link from them.
      await waitFor(async () => (await get('/links')).meta.total === 1, 'the routers linked', 30_000, 100);
      const links = (await get('/links')).data;
      expect([links[0]?.dialerName, links[0]?.acceptorName].sort()).toEqual(['router-1', 'router-2']);

      const dataDir = /data in (\S+)/.exec(stdout)?.[1] as string;
      expect(existsSync(dataDir)).toBe(true);
      lab.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(dataDir)).toBe(false);
      await expect(fetch(`${second}/api/v1/health`)).rejects.toThrow();
    } finally {
      if (lab.exitCode === null) lab.kill('SIGKILL');
    }
  }, 120_000);
});
