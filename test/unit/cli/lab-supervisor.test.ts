/**
 * The lab's process supervisor with real processes (small node scripts standing in for members):
 * a member that dies is reported and the others run on; kill and restart are not reported as
 * crashes; a member that exits before it is ready fails its start with its last line.
 */
import { describe, expect, it } from 'vitest';
import { LabSupervisor, type MemberStatus } from '../../../core/cli/lab-supervisor.js';
import { waitFor } from '../../support/wait.js';

/** A member that prints `ready at URL` and then runs until signalled. */
const SERVER = `console.log('ready at http://127.0.0.1:1/'); setInterval(() => {}, 1000);`;

function supervisor(crashes: MemberStatus[]): LabSupervisor {
  return new LabSupervisor({
    command: [process.execPath],
    onUnexpectedExit: (member) => crashes.push(member),
  });
}

const member = (name: string, script = SERVER) => ({
  name,
  kind: 'controller' as const,
  args: ['-e', script],
  env: process.env,
  ready: /ready at (\S+)/,
});

describe('LabSupervisor', () => {
  it('reports a member that dies and keeps the others running', async () => {
    const crashes: MemberStatus[] = [];
    const lab = supervisor(crashes);
    try {
      const a = await lab.start(member('a'));
      await lab.start(member('b'));
      expect(a).toMatchObject({ state: 'running', url: 'http://127.0.0.1:1' });
      process.kill(a.pid as number, 'SIGKILL');
      await waitFor(() => crashes.length === 1, 'the crash reported');
      expect(crashes[0]).toMatchObject({ name: 'a', pid: a.pid, state: 'exited', exit: 'killed by SIGKILL' });
      expect(lab.status().map((m) => [m.name, m.state])).toEqual([
        ['a', 'exited'],
        ['b', 'running'],
      ]);

      const back = await lab.restart('a');
      expect(back.state).toBe('running');
      expect(back.pid).not.toBe(a.pid);
    } finally {
      await lab.stopAll();
    }
    expect(lab.status().every((m) => m.state === 'exited')).toBe(true);
    expect(crashes).toHaveLength(1);
  });

  it('does not report what it did itself: kill, restart of a running member, stop', async () => {
    const crashes: MemberStatus[] = [];
    const lab = supervisor(crashes);
    try {
      const first = await lab.start(member('a'));
      const restarted = await lab.restart('a');
      expect(restarted.pid).not.toBe(first.pid);
      const killed = await lab.kill('a');
      expect(killed).toMatchObject({ state: 'exited', exit: 'killed by SIGKILL', pid: restarted.pid });
      await expect(lab.kill('a')).rejects.toThrow('a is not running');
      await expect(lab.restart('z')).rejects.toThrow("no member named 'z' (the lab has a)");
    } finally {
      await lab.stopAll();
    }
    expect(crashes).toEqual([]);
  });

  it('fails a start whose member exits before it is ready, with its last line', async () => {
    const lab = supervisor([]);
    await expect(
      lab.start(member('bad', `console.error('no cluster secret: pass --bootstrap'); process.exit(3)`)),
    ).rejects.toThrow('bad exited (exit code 3) before it was ready: no cluster secret: pass --bootstrap');
  });

  it('restarts a member with its restart arguments, not its first ones', async () => {
    const lab = supervisor([]);
    try {
      await lab.start({
        ...member('a'),
        restartArgs: ['-e', `console.log('ready at http://127.0.0.1:2/'); setInterval(() => {}, 1000);`],
      });
      expect((await lab.restart('a')).url).toBe('http://127.0.0.1:2');
    } finally {
      await lab.stopAll();
    }
  });
});
