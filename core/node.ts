/**
 * createNode: the composition root of a controller node. It opens the data directory, the Raft
 * storage and the cluster transport, and runs a replica over the state machine it is given. Only
 * cli.ts and electron/ import this module; everything else receives the parts it needs.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { makePrivateTree } from './files.js';
import { bootstrapFromSnapshot, bootstrapState } from './raft/bootstrap.js';
import type { NodeId, PersistedState } from './raft/types.js';
import { encodeMemberInfo } from './replication/members.js';
import { Replica, type ReplicaOptions } from './replication/replica.js';
import type { StateMachine } from './replication/state-machine.js';
import { openRaftStorage } from './storage/index.js';
import type { RaftStorage, StorageOptions } from './storage/types.js';
import { createCertificateAuthenticator } from './transport/cert-auth.js';
import { createPeerTransport } from './transport/peer-transport.js';
import type { PeerTls, PeerTransport } from './transport/types.js';

export interface InitialMember {
  readonly id: NodeId;
  /** host:port of the member's cluster listener. */
  readonly address: string;
  readonly name?: string;
  /** Base URL of the member's REST API, shown by `GET /cluster`. */
  readonly apiUrl?: string;
}

export interface NodeOptions {
  readonly dataDir: string;
  /** This node's id; generated on first start and kept in the data directory when omitted. */
  readonly nodeId?: NodeId;
  readonly name?: string;
  /** Where the cluster listener binds. */
  readonly cluster: { readonly host: string; readonly port: number };
  /** host:port that peers use to reach this node (default: the cluster listener's). */
  readonly advertise?: string;
  /** Without `advertise`: the host peers reach this node at (default: the bind's, 127.0.0.1 for a wildcard). */
  readonly advertiseHost?: string;
  /**
   * This node's TLS credentials for the cluster listener and its dials, once its identity (kept in
   * the data directory) is known: a getter, read for every connection, so renewal swaps them.
   */
  readonly credentials: CredentialSource;
  /** Whether every certificate of a peer is revoked (removed from the cluster): its dials are refused. */
  readonly revokedPeer?: (peer: NodeId) => boolean;
  /** Whether a peer certificate's issuer (an intermediate's fingerprint) is still trusted. */
  readonly issuerTrusted?: (fingerprint: string | undefined) => boolean;
  /** Benchmarks only: the transport without TLS (TransportOptions.benchmarkPlaintext). */
  readonly benchmarkPlaintext?: true;
  /**
   * On an empty data directory: start a new cluster whose first members are these (this node
   * alone when the list is empty). Ignored once the node has state. Without it, an empty node
   * waits to be added to an existing cluster.
   */
  readonly bootstrap?: {
    readonly clusterId?: string;
    readonly members?: readonly InitialMember[];
    /** The state machine's first data (a restored backup); the cluster starts from it. */
    readonly seed?: Uint8Array;
    /** This node's API base URL, when it starts the cluster alone. */
    readonly apiUrl?: string;
  };
  /** The cluster id to expect when joining (the handshake refuses other clusters). */
  readonly clusterId?: string;
  readonly stateMachine: StateMachine;
  readonly logger?: Logger;
  /** Raft storage tuning (segment size) and the test-only snapshot hook. */
  readonly storage?: Pick<StorageOptions, 'segmentBytes' | 'onSnapshotStep'>;
  readonly replica?: Partial<
    Omit<ReplicaOptions, 'id' | 'storage' | 'transport' | 'stateMachine' | 'logger'>
  >;
}

export interface ControllerNode {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly name: string;
  readonly clusterPort: number;
  readonly advertise: string;
  readonly replica: Replica;
  readonly transport: PeerTransport;
  readonly logger: Logger;
  stop(): Promise<void>;
}

export interface NodeIdentity {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly name: string;
}

export type CredentialSource = (identity: NodeIdentity) => Promise<() => PeerTls>;

export async function createNode(options: NodeOptions): Promise<ControllerNode> {
  // Owner only: the data dir holds keys, password hashes and the log (tightened on every start,
  // so that a directory of an earlier version is fixed too).
  await makePrivateTree(options.dataDir);
  const identity = await loadIdentity(options);
  const logger = (options.logger ?? pino({ level: 'info' })).child({ node: identity.nodeId });
  const storage = await openRaftStorage({
    dir: options.dataDir,
    ...options.storage,
    warn: (message, details) => logger.warn(details ?? {}, message),
  });
  let transport: PeerTransport | undefined;
  try {
    const tls = await options.credentials(identity);
    transport = createPeerTransport({
      nodeId: identity.nodeId,
      authenticator: createCertificateAuthenticator({
        clusterId: identity.clusterId,
        tls,
        ...(options.revokedPeer ? { revoked: options.revokedPeer } : {}),
        ...(options.issuerTrusted ? { issuerTrusted: options.issuerTrusted } : {}),
      }),
      listen: options.cluster,
      log: logger,
      ...(options.benchmarkPlaintext ? { benchmarkPlaintext: true as const } : {}),
    });
    const { port } = await transport.start();
    const advertise =
      options.advertise ?? `${options.advertiseHost ?? advertiseHost(options.cluster.host)}:${port}`;
    transport.setAdvertise(advertise);
    const persisted = await bootstrapIfEmpty(storage, identity, advertise, options);
    const replica = new Replica({
      ...options.replica,
      id: identity.nodeId,
      storage,
      transport,
      stateMachine: options.stateMachine,
      logger,
      ...(persisted ? { persisted } : {}),
    });
    replica.start();
    const started = transport;
    return {
      id: identity.nodeId,
      clusterId: identity.clusterId,
      name: identity.name,
      clusterPort: port,
      advertise,
      replica,
      transport: started,
      logger,
      async stop() {
        await replica.stop();
        await started.close();
        await storage.close();
      },
    };
  } catch (err) {
    await transport?.close();
    await storage.close();
    throw err;
  }
}

/** The node's id and cluster id, kept in `<dataDir>/node.json` from the first start on. */
async function loadIdentity(options: NodeOptions): Promise<NodeIdentity> {
  const file = join(options.dataDir, 'node.json');
  let stored: NodeIdentity | undefined;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as NodeIdentity;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new Error(`cannot read ${file}: ${String(err)}`);
  }
  if (stored) {
    if (options.nodeId && options.nodeId !== stored.nodeId) {
      throw new Error(
        `data directory ${options.dataDir} belongs to node ${stored.nodeId}, not ${options.nodeId}`,
      );
    }
    return stored;
  }
  const nodeId = options.nodeId ?? `n${randomBytes(6).toString('hex')}`;
  const clusterId =
    options.bootstrap?.clusterId ??
    options.clusterId ??
    (options.bootstrap ? `c${randomBytes(8).toString('hex')}` : '');
  if (!clusterId) throw new Error('a node that joins a cluster needs its cluster id');
  const identity: NodeIdentity = { nodeId, clusterId, name: options.name ?? nodeId };
  await writeFile(`${file}.tmp`, JSON.stringify(identity, null, 2), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return identity;
}

/**
 * A new cluster starts from its first membership as committed log entries (raft/bootstrap.ts),
 * persisted before the node starts so that a crash right after bootstrap restarts the same cluster.
 */
async function bootstrapIfEmpty(
  storage: RaftStorage,
  identity: NodeIdentity,
  advertise: string,
  options: NodeOptions,
): Promise<PersistedState | undefined> {
  const recovered = storage.recovered;
  if (
    !options.bootstrap ||
    recovered.snapshot ||
    recovered.hardState ||
    (recovered.entries?.length ?? 0) > 0
  ) {
    return undefined;
  }
  const members: readonly InitialMember[] =
    options.bootstrap.members && options.bootstrap.members.length > 0
      ? options.bootstrap.members
      : [
          {
            id: identity.nodeId,
            address: advertise,
            name: identity.name,
            ...(options.bootstrap.apiUrl ? { apiUrl: options.bootstrap.apiUrl } : {}),
          },
        ];
  const bootstrapMembers = members.map((m) => ({
    id: m.id,
    context: encodeMemberInfo({
      address: m.address,
      ...(m.name ? { name: m.name } : {}),
      ...(m.apiUrl ? { apiUrl: m.apiUrl } : {}),
    }),
  }));
  const seed = options.bootstrap.seed;
  const initial = seed ? bootstrapFromSnapshot(bootstrapMembers, seed) : bootstrapState(bootstrapMembers);
  await storage.save({
    entries: initial.entries ?? [],
    ...(initial.snapshot ? { snapshot: initial.snapshot } : {}),
    ...(initial.hardState ? { hardState: initial.hardState } : {}),
    mustSync: true,
  });
  return initial;
}

function advertiseHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
