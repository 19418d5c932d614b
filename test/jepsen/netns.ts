/**
 * A LAN of test hosts made of Linux network namespaces, for the Jepsen-style runner: host i is
 * namespace `mdj<pid36>-<k>-<i>` with one veth (`eth0`, address 10.213.<k>.<i+1>/24) into a bridge
 * in the root namespace (`mdj<pid36>-<k>-br`, 10.213.<k>.254), so the runner reaches every host and
 * the hosts reach each other, and nothing else: no default route, no forwarding, no IPv6 addresses.
 * `<pid36>` is the owning process's pid in base 36 (names must fit 15 characters); `<k>` is a
 * /24 chosen per LAN and held by an abstract unix socket, so concurrent runs never share one.
 *
 * Partitions are blackhole routes inside each host's namespace, one per peer in another group.
 * Routing is per packet, so a connection already established stops delivering too (its segments
 * wait in the send queue and are retransmitted after heal), while a new connect() to a cut peer
 * fails at once with EINVAL. The runner's own traffic is never cut: it comes from the bridge's
 * address, which no host blackholes.
 *
 * Leftovers: close() removes every namespace and link it made and SIGKILLs processes still inside
 * them; an exit/SIGINT/SIGTERM hook does the same for a runner that dies without calling it. A
 * runner killed with SIGKILL leaves its namespaces behind, and the next create() (any process)
 * removes those whose owning pid is dead.
 */
import {
  execFileSync,
  spawn as spawnProcess,
  type ChildProcess,
  type SpawnOptions,
} from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import type { HostPort, NodeHost, Partitioner } from './host.js';

const API_PORT = 8440;
const CLUSTER_PORT = 8441;
/** Two index digits keep `mdj` + 5 (pid) + `-` + 3 (k) + `-` + 2 within an interface name's 15. */
const MAX_HOSTS = 99;
/** Every namespace and root-namespace link this module makes; group 1 is the owner's pid. */
const OUR_NAME = /^mdj([0-9a-z]{1,5})-\d{1,3}-[0-9a-z]{1,2}$/;
const BRIDGE_HOST = 254;

export class NetnsLan implements NodeHost, Partitioner {
  readonly kind = 'netns' as const;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly size: number,
    /** The first three octets of the LAN's /24, e.g. `10.213.17`. */
    readonly subnet: string,
    private readonly prefix: string,
    private readonly subnetLock: Server,
  ) {}

  /** undefined when namespaces can be made here, else why not (one line). Decided by trying. */
  static available(): Promise<string | undefined> {
    // One probe at a time per process: the probe's names are per pid.
    probing ??= probe().finally(() => (probing = undefined));
    return probing;
  }

  /** n hosts on a fresh /24, after removing what crashed earlier runs left behind. */
  static async create(n: number): Promise<NetnsLan> {
    if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) {
      throw new RangeError(`NetnsLan.create: 1..${MAX_HOSTS} hosts, not ${n}`);
    }
    if (ipBinary() === undefined) throw new Error('NetnsLan.create: no `ip` (iproute2) found');
    await removeStale();
    const { k, lock } = await claimSubnet();
    const lan = new NetnsLan(n, `10.213.${k}`, `mdj${process.pid.toString(36)}-${k}`, lock);
    try {
      await lan.build();
    } catch (err) {
      await lan.close().catch(() => undefined);
      throw err;
    }
    adopt(lan);
    return lan;
  }

  /** The namespace (and its root-side veth) of host i. */
  namespace(i: number): string {
    return `${this.prefix}-${this.index(i)}`;
  }

  /** Host i's only address. */
  address(i: number): string {
    return `${this.subnet}.${this.index(i) + 1}`;
  }

  /** The bridge's address: where connections from the runner come from, as the hosts see them. */
  get runnerAddress(): string {
    return `${this.subnet}.${BRIDGE_HOST}`;
  }

  api(i: number): HostPort {
    return { host: this.address(i), port: API_PORT };
  }

  cluster(i: number): HostPort {
    return { host: this.address(i), port: CLUSTER_PORT };
  }

  /**
   * Runs the command in host i's namespace. `ip netns exec` execs into the command after setns,
   * so the returned pid is the command's own. A command that cannot be exec'd shows as an exit
   * with code 255 and a line on stderr, not as an 'error' event.
   */
  spawn(i: number, command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
    this.assertOpen();
    if (options.shell) throw new Error('NetnsLan.spawn: a shell would stand between the pid and the command');
    return spawnProcess(ipPath(), ['netns', 'exec', this.namespace(i), command, ...args], options);
  }

  /**
   * Only hosts within one group reach each other; a host in no group reaches no other host. The
   * runner reaches every host throughout. Replaces the previous partition, touching only the
   * routes that differ, so repeating a partition changes nothing.
   */
  async partition(groups: readonly (readonly number[])[]): Promise<void> {
    this.assertOpen();
    const groupOf = new Map<number, number>();
    groups.forEach((group, g) => {
      for (const host of group) {
        this.index(host);
        if (groupOf.has(host)) throw new Error(`NetnsLan.partition: host ${host} is in two groups`);
        groupOf.set(host, g);
      }
    });
    await Promise.all(
      this.hosts().map((h) => {
        const group = groupOf.get(h);
        const cut = this.hosts().filter((p) => p !== h && (group === undefined || groupOf.get(p) !== group));
        return this.setCuts(h, new Set(cut.map((p) => this.address(p))));
      }),
    );
  }

  async heal(): Promise<void> {
    this.assertOpen();
    await Promise.all(this.hosts().map((h) => this.setCuts(h, new Set())));
  }

  /** Removes every namespace and link of this LAN, killing processes still inside. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.teardown();
    return this.closing;
  }

  /** The exit hook's close: synchronous, best effort. */
  closeSync(): void {
    if (this.closing) return;
    this.closing = Promise.resolve();
    disown(this);
    for (const ns of this.namespaces()) {
      try {
        killAll(execFileSync(ipPath(), ['netns', 'pids', ns], { encoding: 'utf8', stdio: 'pipe' }));
      } catch {
        // namespace already gone
      }
    }
    try {
      const lines = removalLines({ namespaces: this.namespaces(), links: this.links() });
      execFileSync(ipPath(), ['-force', '-batch', '-'], { input: lines.join('\n'), stdio: 'pipe' });
    } catch {
      // best effort: the next create() removes what is left
    }
    this.subnetLock.close();
  }

  private async build(): Promise<void> {
    const bridge = `${this.prefix}-br`;
    await runIp(
      ['-batch', '-'],
      [
        `link add ${bridge} type bridge`,
        `link set ${bridge} addrgenmode none`,
        `addr add ${this.runnerAddress}/24 dev ${bridge}`,
        `link set ${bridge} up`,
        ...this.hosts().flatMap((h) => {
          const ns = this.namespace(h);
          return [
            `netns add ${ns}`,
            `link add ${ns} type veth peer name eth0 netns ${ns}`,
            `link set ${ns} addrgenmode none`,
            `link set ${ns} master ${bridge} up`,
          ];
        }),
      ],
    );
    await Promise.all(
      this.hosts().map((h) =>
        runIp(
          ['-n', this.namespace(h), '-batch', '-'],
          [
            'link set lo up',
            'link set eth0 addrgenmode none',
            `addr add ${this.address(h)}/24 dev eth0`,
            'link set eth0 up',
          ],
        ),
      ),
    );
  }

  /** Makes host h's blackhole routes exactly `peers`, reading what is there rather than trusting memory. */
  private async setCuts(h: number, peers: ReadonlySet<string>): Promise<void> {
    const ns = this.namespace(h);
    const shown = await runIp(['-n', ns, '-4', 'route', 'show', 'type', 'blackhole']);
    const present = new Set(
      shown
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[1]?.replace(/\/32$/, ''))
        .filter((dst): dst is string => dst !== undefined),
    );
    const commands = [
      ...[...present].filter((dst) => !peers.has(dst)).map((dst) => `route del blackhole ${dst}/32`),
      ...[...peers].filter((dst) => !present.has(dst)).map((dst) => `route add blackhole ${dst}/32`),
    ];
    if (commands.length > 0) await runIp(['-n', ns, '-batch', '-'], commands);
  }

  private async teardown(): Promise<void> {
    disown(this);
    const namespaces = this.namespaces();
    await Promise.all(
      namespaces.map(async (ns) => killAll(await runIp(['netns', 'pids', ns]).catch(() => ''))),
    );
    await remove({ namespaces, links: this.links() });
    await new Promise<void>((resolve) => this.subnetLock.close(() => resolve()));
  }

  private hosts(): number[] {
    return Array.from({ length: this.size }, (_, i) => i);
  }

  private namespaces(): string[] {
    return this.hosts().map((h) => this.namespace(h));
  }

  private links(): string[] {
    return [...this.namespaces(), `${this.prefix}-br`];
  }

  private index(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.size) {
      throw new RangeError(`NetnsLan: no host ${i} (hosts 0..${this.size - 1})`);
    }
    return i;
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('NetnsLan: closed');
  }
}

let probing: Promise<string | undefined> | undefined;

/** Makes and removes a scratch namespace with what a LAN needs: veth, bridge, exec, a blackhole. */
async function probe(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux, not ${process.platform}`;
  const ip = ipBinary();
  if (ip === undefined) return 'no `ip` (iproute2) on PATH or in /usr/sbin, /sbin';
  const name = `mdj${process.pid.toString(36)}-0-p`;
  try {
    await runIp(
      ['-batch', '-'],
      [
        `netns add ${name}`,
        `link add ${name} type veth peer name eth0 netns ${name}`,
        `link add ${name}b type bridge`,
        `link set ${name} master ${name}b`,
      ],
    );
    // Exercises what spawn() and partition() use: exec into the namespace, a blackhole route.
    await runIp(['netns', 'exec', name, ip, 'route', 'add', 'blackhole', '10.213.0.1/32']);
    return undefined;
  } catch (err) {
    const uid = process.getuid?.();
    const why = (err as Error).message.split('\n')[0] ?? '';
    return `cannot make a network namespace: ${why}${uid !== 0 ? ` (not root: uid ${uid})` : ''}`;
  } finally {
    await remove({ namespaces: [name], links: [name, `${name}b`] }).catch(() => undefined);
  }
}

// --- the iproute2 binary --------------------------------------------------------------------

let ipFound: string | null | undefined;

/** Found once, by absolute path, so a spawn whose env has no PATH still finds it. */
function ipBinary(): string | undefined {
  if (ipFound === undefined) {
    const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
    ipFound = null;
    for (const dir of dirs.filter((d) => d !== '')) {
      try {
        accessSync(join(dir, 'ip'), constants.X_OK);
        ipFound = join(dir, 'ip');
        break;
      } catch {
        // not here
      }
    }
  }
  return ipFound ?? undefined;
}

function ipPath(): string {
  const ip = ipBinary();
  if (ip === undefined) throw new Error('NetnsLan: no `ip` (iproute2) found');
  return ip;
}

/** Runs `ip args…`, feeding `lines` (for -batch -) on stdin; resolves with stdout. */
function runIp(args: readonly string[], lines: readonly string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(ipPath(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || `exit ${code}`}`));
    });
    // An ip that is not reading stdin (or fails early) closes it; its exit status is what counts.
    child.stdin.on('error', () => undefined);
    child.stdin.end(lines.map((line) => `${line}\n`).join(''));
  });
}

// --- removal, of ours and of crashed runs' ---------------------------------------------------

interface Names {
  readonly namespaces: readonly string[];
  readonly links: readonly string[];
}

/** Links first (a veth's deletion takes its peer along), then the namespaces. */
function removalLines({ namespaces, links }: Names): string[] {
  return [...links.map((l) => `link del ${l}`), ...namespaces.map((ns) => `netns del ${ns}`)];
}

/** Deletes them, tolerating ones already gone, and fails if any is still there afterwards. */
async function remove(names: Names): Promise<void> {
  if (names.namespaces.length + names.links.length === 0) return;
  const failure = await runIp(['-force', '-batch', '-'], removalLines(names)).then(
    () => '',
    (err: Error) => err.message,
  );
  const left = await listOurs();
  const remaining = [
    ...names.namespaces.filter((ns) => left.namespaces.includes(ns)),
    ...names.links.filter((l) => left.links.includes(l)),
  ];
  if (remaining.length > 0) throw new Error(`NetnsLan: could not remove ${remaining.join(', ')}: ${failure}`);
}

async function listOurs(): Promise<Names> {
  const [namespaces, links] = await Promise.all([runIp(['netns', 'list']), runIp(['-o', 'link', 'show'])]);
  return {
    // "name (id: 3)"
    namespaces: namespaces
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => OUR_NAME.test(name)),
    // "7: name@if2: <BROADCAST,…"
    links: links
      .split('\n')
      .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
      .filter((name) => OUR_NAME.test(name)),
  };
}

/** Namespaces and links of ours whose owning process is dead, and processes left inside them. */
async function removeStale(): Promise<void> {
  const ours = await listOurs();
  const stale = (name: string): boolean => {
    const pid = Number.parseInt(OUR_NAME.exec(name)?.[1] ?? '', 36);
    return pid !== process.pid && !isAlive(pid);
  };
  const names = { namespaces: ours.namespaces.filter(stale), links: ours.links.filter(stale) };
  await Promise.all(
    names.namespaces.map(async (ns) => killAll(await runIp(['netns', 'pids', ns]).catch(() => ''))),
  );
  await remove(names);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs the pids `ip netns pids` printed: hosts' processes outliving their LAN. */
function killAll(pids: string): void {
  for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// --- choosing the /24 ------------------------------------------------------------------------

/**
 * A k in 1..253 such that 10.213.k.0/24 overlaps no address or route of the root namespace, held
 * by an abstract unix socket (released by the kernel when this process dies) so that a concurrent
 * run cannot pick it between our check and our bridge's address.
 */
async function claimSubnet(): Promise<{ k: number; lock: Server }> {
  const [addrs, routes] = await Promise.all([
    runIp(['-4', '-o', 'addr', 'show']),
    runIp(['-4', 'route', 'show']),
  ]);
  const taken = [
    ...[...addrs.matchAll(/inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)].map((m) => m[1] ?? ''),
    ...routes.split('\n').map((line) => line.split(' ')[0] ?? ''),
  ].flatMap((cidr) => parseCidr(cidr) ?? []);
  const start = Math.floor(Math.random() * 253);
  for (let step = 0; step < 253; step += 1) {
    const k = ((start + step) % 253) + 1;
    const net = { base: ((10 << 24) | (213 << 16) | (k << 8)) >>> 0, length: 24 };
    if (taken.some((t) => overlaps(t, net))) continue;
    const lock = await listenAbstract(`meshdesk-jepsen-netns-10.213.${k}`);
    if (lock) return { k, lock };
  }
  throw new Error('NetnsLan: no free /24 in 10.213.0.0/16');
}

interface Cidr {
  readonly base: number;
  readonly length: number;
}

function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return undefined;
  const [a, b, c, d] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return {
    base: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0,
    length: m[5] === undefined ? 32 : Number(m[5]),
  };
}

function overlaps(x: Cidr, y: Cidr): boolean {
  const length = Math.min(x.length, y.length);
  const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

function listenAbstract(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err),
    );
    server.listen({ path: `\0${name}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

// --- cleanup when the runner dies without close() --------------------------------------------

const live = new Set<NetnsLan>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function closeAllSync(): void {
  for (const lan of [...live]) lan.closeSync();
}

function onSignal(signal: NodeJS.Signals): void {
  closeAllSync();
  // Our listener is gone now; if nobody else handles the signal, die of it as we would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const signalListeners = new Map(SIGNALS.map((s) => [s, () => onSignal(s)] as const));

function adopt(lan: NetnsLan): void {
  if (live.size === 0) {
    process.on('exit', closeAllSync);
    for (const [signal, listener] of signalListeners) process.on(signal, listener);
  }
  live.add(lan);
}

function disown(lan: NetnsLan): void {
  if (!live.delete(lan) || live.size > 0) return;
  process.off('exit', closeAllSync);
  for (const [signal, listener] of signalListeners) process.off(signal, listener);
}
