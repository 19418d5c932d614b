/**
 * `meshdesk lab` as a newcomer runs it: controllers that form one cluster, a sample model to look
 * at, a lab that survives a killed member (that is what it is for) and brings it back on
 * `restart NAME`, and everything gone (processes and temporary data) after SIGTERM.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callController, loginToController } from '../support/controller-api.js';
import { ADMIN_PASSWORD } from '../support/controller-processes.js';
import { announcedNodes, startLab } from '../support/lab-process.js';
import { waitFor } from '../support/wait.js';

describe('meshdesk lab', () => {
  it('runs a seeded two-node cluster with two routers, and cleans up on SIGTERM', async () => {
    const lab = await startLab(['--controllers', '2', '--routers', '2']);
    try {
      const stdout = lab.stdout();
      // Progress while it starts, one line per member.
      expect(stdout).toMatch(/starting 2 controller\(s\) and 2 router\(s\)/);
      for (const name of ['node-0', 'node-1'])
        expect(stdout).toMatch(new RegExp(`^ {2}${name} up \\(pid \\d+\\)$`, 'm'));
      for (const name of ['router-1', 'router-2'])
        expect(stdout).toMatch(new RegExp(`^ {2}${name} up \\(pid \\d+, on its certificate\\)$`, 'm'));
      const nodes = announcedNodes(stdout);
      expect(nodes.map((n) => n.url)).toEqual([
        `http://127.0.0.1:${lab.basePort}`,
        `http://127.0.0.1:${lab.basePort + 1}`,
      ]);
      expect(nodes.filter((n) => n.leader)).toHaveLength(1);
      expect(stdout).toMatch(/log in as admin \/ \(MESHDESK_ADMIN_PASSWORD\)/);

      const second = nodes[1]?.url as string;
      const token = await loginToController(second, 'admin', ADMIN_PASSWORD);
      interface Page {
        meta: { total: number };
        members: { voter: boolean }[];
        data: { dialerName: string; acceptorName: string }[];
      }
      const get = async (path: string): Promise<Page> => {
        const res = await callController(second, 'GET', `${path}?consistency=linearizable`, { token });
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
      // Each router enrolled for its own certificate and connected on it: no shared secret in the lab.
      const runtime = (await (await callController(second, 'GET', '/runtime', { token })).json()) as {
        routers: { name: string; certificateSerial: string }[];
      };
      const dataDir = /data in (\S+)/.exec(stdout)?.[1] as string;
      expect(existsSync(dataDir)).toBe(true);
      const enrolled = ['router-1', 'router-2'].map((name) => {
        const file = join(dataDir, 'routers', `${name}.json`);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const { certificate } = JSON.parse(readFileSync(file, 'utf8')) as { certificate: string };
        return [name, new X509Certificate(certificate).serialNumber.toUpperCase()];
      });
      expect(runtime.routers.map((r) => [r.name, r.certificateSerial]).sort()).toEqual(enrolled);
      lab.process.kill('SIGTERM');
      expect(await lab.exited).toBe(0);
      expect(existsSync(dataDir)).toBe(false);
      await expect(fetch(`${second}/api/v1/health`)).rejects.toThrow();
    } finally {
      await lab.stop();
    }
  }, 120_000);

  it('survives kill -9 of its leader, says who leads now, and restarts the member on request', async () => {
    const lab = await startLab(['--controllers', '3']);
    try {
      const nodes = announcedNodes(lab.stdout());
      expect(nodes).toHaveLength(3);
      const leader = nodes.find((n) => n.leader);
      if (!leader) throw new Error(`no leader announced:\n${lab.stdout()}`);

      process.kill(leader.pid, 'SIGKILL');
      await lab.printed(
        new RegExp(`${leader.name} \\(pid ${leader.pid}\\) killed by SIGKILL; the lab keeps running`),
        'the lab saying the leader died',
      );
      const [, next] = await lab.printed(/(node-\d) now leads \(term \d+\)/, 'a new leader announced');
      expect(next).not.toBe(leader.name);

      // The two left form a majority: a write through either one commits.
      const survivor = nodes.find((n) => n.name !== leader.name) as (typeof nodes)[number];
      const token = await loginToController(survivor.url, 'admin', ADMIN_PASSWORD);
      const created = await callController(survivor.url, 'POST', '/identities', {
        token,
        body: { name: 'written-after-failover', type: 'User' },
      });
      expect(created.status).toBe(201);

      lab.type(`restart ${leader.name}`);
      await lab.printed(new RegExp(`${leader.name} is back \\(pid \\d+\\) at ${leader.url}/`), 'the restart');
      lab.type('status');
      const [table] = await lab.printed(/(?:^ {2}node-\d +running .*\n){3}/m, 'three running members');
      expect(table.match(/leader$/gm)).toHaveLength(1);

      // The restarted node has its data back and catches up with what it missed.
      const back = await loginToController(leader.url, 'admin', ADMIN_PASSWORD);
      const read = await callController(
        leader.url,
        'GET',
        '/identities?filter=name%3D%22written-after-failover%22&consistency=linearizable',
        { token: back },
      );
      expect(((await read.json()) as { meta: { total: number } }).meta.total).toBe(1);

      lab.type('restart node-9');
      await lab.printed(/no member named 'node-9' \(the lab has node-0, node-1, node-2\)/, 'a refusal');
      lab.type('quit');
      expect(await lab.exited).toBe(0);
    } finally {
      await lab.stop();
    }
  }, 150_000);
});
