/** `meshdesk cluster …`: cluster status and operations through a node's REST API. */
import { readFile, writeFile } from 'node:fs/promises';
import type { z } from 'zod';
import { clusterCa, MAX_INVITATION_MINUTES, type invitation } from '../../contract/index.js';
import type { ClusterMemberView, ClusterView } from '../cluster/types.js';
import { clusterCaFile } from '../cluster/credentials.js';
import { fingerprint } from '../pki/ca.js';
import { CliClient } from './api-client.js';
import { apiTarget, TRUST_OPTIONS, TRUST_USAGE } from './api-target.js';
import { hostPort, httpUrl, parse, text, UsageError } from './args.js';
import { credentials, CREDENTIAL_OPTIONS, CREDENTIAL_USAGE } from './credentials.js';

export const CLUSTER_USAGE = `usage: meshdesk cluster <status|members|add|remove|transfer-leadership|snapshot|ca|invite|invites|revoke-invite|rotate-token-keys|rotate-ca> [options]

  status                           the cluster as the node at --api sees it
  members                          its members, one per line
  add --id ID --address HOST:PORT  add a member (learner first, voter once caught up)
      [--name N] [--api-url URL] [--learner]
  remove ID                        remove a member
  transfer-leadership [--to ID]    hand leadership to ID (default: the most caught-up voter)
  snapshot                         take a snapshot on the node at --api now
  ca [--data-dir D] [--out FILE]   the cluster CA certificate and its SHA-256 fingerprint, from a
                                   node's data directory, or else from the node at --api (no login)
  invite [--expires 1h]            a one-time join token for a new controller (printed once;
                                   30m, 12h, 2d…: at most 7d)
  invites                          the join tokens and their state (never their secrets)
  revoke-invite ID                 revoke a join token that has not been used
  rotate-ca                        sign a new intermediate CA (ask the node that bootstrapped the
                                   cluster: it holds the root key); every member and router
                                   re-issues its certificate from it, with no restart
  rotate-ca --new-root             the same under a new root, which the current one certifies
                                   meanwhile; it becomes everyone's root when finished
  rotate-ca --finish               retire the intermediate CAs a rotation replaced, once every
                                   member and router re-issued (it says who has not): their
                                   certificates open nothing from then on
  rotate-token-keys                retire every token signing key: every admin token issued so far
                                   (yours too) is refused on every node; each node signs new ones
                                   with a new key

options:
  --api URL        a member's API (default http://127.0.0.1:8440; https:// beyond loopback)
${TRUST_USAGE}
${CREDENTIAL_USAGE}
  --json           print the API's JSON answer`;

const OPTIONS = {
  api: { type: 'string' },
  ...TRUST_OPTIONS,
  ...CREDENTIAL_OPTIONS,
  json: { type: 'boolean' },
  id: { type: 'string' },
  address: { type: 'string' },
  name: { type: 'string' },
  'api-url': { type: 'string' },
  learner: { type: 'boolean' },
  to: { type: 'string' },
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  expires: { type: 'string' },
  finish: { type: 'boolean' },
  'new-root': { type: 'boolean' },
} as const;

const SUBCOMMANDS = [
  'status',
  'members',
  'add',
  'remove',
  'transfer-leadership',
  'snapshot',
  'ca',
  'invite',
  'invites',
  'revoke-invite',
  'rotate-token-keys',
  'rotate-ca',
] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export async function cluster(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const { values, positionals, help } = parse(argv, OPTIONS, 2);
  const [sub, arg] = positionals;
  if (help || sub === undefined) {
    out(CLUSTER_USAGE);
    return help ? 0 : 2;
  }
  if (!SUBCOMMANDS.includes(sub as Subcommand)) {
    throw new UsageError(`unknown cluster command '${sub}' (one of ${SUBCOMMANDS.join(', ')})`);
  }
  if (arg !== undefined && sub !== 'remove' && sub !== 'revoke-invite') {
    throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (values.finish && sub !== 'rotate-ca') throw new UsageError('--finish goes with rotate-ca only');
  if (values['new-root'] && (sub !== 'rotate-ca' || values.finish)) {
    throw new UsageError('--new-root goes with rotate-ca only, without --finish');
  }
  const expiresInMinutes = sub === 'invite' ? minutes(text(values, 'expires') ?? '1h') : undefined;
  if (sub === 'ca') return showCa(values, env, out);
  const target = await apiTarget(values, env);
  const client = new CliClient(target.url, await credentials(values, env), { fetch: target.fetch });
  const json = values.json === true;
  const show = (data: unknown, line: string): void => out(json ? JSON.stringify(data, null, 2) : line);
  switch (sub as Exclude<Subcommand, 'ca'>) {
    case 'status': {
      const { data } = await client.request<ClusterView>('GET', '/cluster');
      show(data, formatStatus(data));
      return 0;
    }
    case 'members': {
      const { data } = await client.request<ClusterView>('GET', '/cluster');
      show(data.members, formatMembers(data.members));
      return 0;
    }
    case 'add': {
      const id = text(values, 'id');
      const address = text(values, 'address');
      if (!id || !address) throw new UsageError('cluster add needs --id ID and --address HOST:PORT');
      hostPort('address', address);
      const apiUrl = text(values, 'api-url');
      const name = text(values, 'name');
      const body = {
        id,
        address,
        ...(name ? { name } : {}),
        ...(apiUrl ? { apiUrl: httpUrl('api-url', apiUrl) } : {}),
        ...(values.learner ? { voter: false } : {}),
      };
      const { data } = await client.request('POST', '/cluster/members', body);
      show(data, `added ${id} (${address})${values.learner ? ' as a learner' : ' as a voter'}`);
      return 0;
    }
    case 'remove': {
      if (!arg) throw new UsageError('cluster remove needs the member id');
      const { data } = await client.request('DELETE', `/cluster/members/${encodeURIComponent(arg)}`);
      show(data, `removed ${arg}`);
      return 0;
    }
    case 'transfer-leadership': {
      const to = text(values, 'to');
      const { data } = await client.request<{ leaderId?: string }>(
        'POST',
        '/cluster/transfer-leadership',
        to ? { to } : {},
      );
      show(data, `leader is now ${data.leaderId ?? to ?? '?'}`);
      return 0;
    }
    case 'snapshot': {
      const { data } = await client.request<{ index?: number }>('POST', '/cluster/snapshot');
      show(data, `snapshot taken at index ${String(data.index ?? '?')}`);
      return 0;
    }
    case 'rotate-ca': {
      if (values.finish) {
        const { data } = await client.request<{ retired: string[]; root?: string }>(
          'POST',
          '/cluster/ca/finish-rotation',
        );
        const root = data.root ? `; root CA ${data.root} is everyone's root now` : '';
        show(
          data,
          data.retired.length === 0
            ? 'no rotation to finish: only the current intermediate CA is trusted'
            : `retired intermediate CA ${data.retired.join(', ')}; its certificates open nothing any more${root}`,
        );
        return 0;
      }
      const { data } = await client.request<{ fingerprint: string; notAfter: string; root?: string }>(
        'POST',
        '/cluster/ca/rotate',
        values['new-root'] ? { newRoot: true } : {},
      );
      const root = data.root ? ` under new root ${data.root}` : '';
      show(
        data,
        `new intermediate CA ${data.fingerprint}${root} (valid until ${data.notAfter}); members and routers re-issue their certificates from it now; finish with 'meshdesk cluster rotate-ca --finish'`,
      );
      return 0;
    }
    case 'rotate-token-keys': {
      const { data } = await client.request<{ retired: string[] }>('POST', '/cluster/token-keys/rotate');
      show(
        data,
        `retired ${data.retired.length} token signing key(s); every token issued before now is refused — log in again`,
      );
      return 0;
    }
    case 'invite': {
      const { data } = await client.request<{ token: string; invitation: Invitation }>(
        'POST',
        '/cluster/invitations',
        { expiresInMinutes },
      );
      // The token alone on stdout, so that it can be piped; it is shown this once.
      show(data, data.token);
      return 0;
    }
    case 'invites': {
      const { data } = await client.request<{ data: Invitation[] }>('GET', '/cluster/invitations');
      show(data.data, formatInvitations(data.data));
      return 0;
    }
    case 'revoke-invite': {
      if (!arg) throw new UsageError('cluster revoke-invite needs the invitation id (see cluster invites)');
      const { data } = await client.request<Invitation>(
        'DELETE',
        `/cluster/invitations/${encodeURIComponent(arg)}`,
      );
      show(data, `revoked ${arg}`);
      return 0;
    }
  }
}

/** `cluster ca`: the root CA (PEM) and its fingerprint, from a data directory or a node's API. */
async function showCa(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const dataDir = text(values, 'data-dir');
  let certificate: string;
  if (dataDir) {
    const file = clusterCaFile(dataDir);
    try {
      certificate = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): is ${dataDir} a node's data directory?`,
      );
    }
  } else {
    const target = await apiTarget(values, env);
    const client = new CliClient(target.url, {}, { fetch: target.fetch });
    certificate = (await client.anonymous('/cluster/ca', clusterCa)).certificate;
  }
  const sha256 = fingerprint(certificate);
  const outFile = text(values, 'out');
  if (outFile) {
    await writeFile(outFile, certificate, { mode: 0o644 });
    out(`wrote ${outFile}: the cluster CA, SHA-256 fingerprint ${sha256}`);
  } else if (values.json === true) {
    out(JSON.stringify({ certificate, fingerprint: sha256 }, null, 2));
  } else {
    out(`${certificate.trimEnd()}\nSHA-256 fingerprint ${sha256}`);
  }
  return 0;
}

type Invitation = z.infer<typeof invitation>;

/** `--expires`: 90m, 12h, 2d (at most 7d) in minutes. */
export function minutes(value: string): number {
  const match = /^(\d{1,5})([mhd])$/.exec(value);
  const scale = { m: 1, h: 60, d: 24 * 60 }[match?.[2] ?? 'm'] ?? 1;
  const total = Number(match?.[1]) * scale;
  if (!match || total < 1 || total > MAX_INVITATION_MINUTES) {
    throw new UsageError(`--expires must be a duration such as 30m, 12h or 2d, at most 7d; not '${value}'`);
  }
  return total;
}

function formatInvitations(list: readonly Invitation[]): string {
  if (list.length === 0) return 'no join tokens';
  return table([
    ['ID', 'STATE', 'CREATED', 'EXPIRES', 'USED BY'],
    ...list.map((i) => [i.id, i.state, i.createdAt, i.expiresAt, i.usedBy ?? '-']),
  ]);
}

function formatStatus(view: ClusterView): string {
  const leader = view.leaderId === '' ? 'none' : view.leaderId;
  return [
    `cluster ${view.clusterId}  leader ${leader}  term ${view.term}  commit ${view.commitIndex}  (seen from ${view.nodeId}, applied ${view.appliedIndex})`,
    formatMembers(view.members),
  ].join('\n');
}

function formatMembers(members: readonly ClusterMemberView[]): string {
  return table([
    ['ID', 'NAME', 'ADDRESS', 'ROLE', 'STATE', 'MATCH', 'LAST CONTACT'],
    ...members.map((m) => [
      m.id,
      m.name,
      m.address,
      m.leader ? 'leader' : m.voter ? 'voter' : 'learner',
      m.reachable ? 'up' : 'unreachable',
      m.matchIndex === null ? '-' : String(m.matchIndex),
      m.lastContactMs === null ? '-' : `${m.lastContactMs} ms`,
    ]),
  ]);
}

/** Rows as columns padded to their widest cell. */
function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
