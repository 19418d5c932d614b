/**
 * A controller node: the replicated model (core/model), the Raft node carrying it (node.ts),
 * cluster operations (core/cluster) and the REST API (core/api), composed. `meshdesk start` and
 * the desktop app run one of these; nothing else composes them.
 */
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { firstAdminCommand } from './api/bootstrap.js';
import type { ApiContext } from './api/context.js';
import { createApiServer } from './api/server.js';
import {
  bootstrapClusterCa,
  clearPendingCa,
  createCertificateAuthority,
  hasPendingCa,
  pendingCaCommands,
  type ControllerName,
} from './cluster/cluster-ca.js';
import { credentialsDir, loadCredentials, saveCredentials } from './cluster/credentials.js';
import { createClusterOps } from './cluster/ops.js';
import {
  prepareJoin,
  requestCertificate,
  requestMembership,
  type JoinTarget,
  type PreparedJoin,
} from './cluster/join.js';
import { CertificateRenewal } from './cluster/renewal.js';
import { FaultInjection } from './fault-injection.js';
import { randomSecret, readSecretFile, writeSecretFile } from './files.js';
import { encodeCommand, type SingleCommand } from './model/commands.js';
import { ModelStateMachine } from './model/state-machine.js';
import { createNode, type ControllerNode, type CredentialSource, type NodeIdentity } from './node.js';
import { createKeyAndCsr } from './pki/ca.js';
import { NONE } from './raft/types.js';
import { ROUTER_NAMESPACE } from './runtime/protocol.js';
import { CircuitDirectory } from './runtime/circuit-directory.js';
import { ControllerRuntime } from './runtime/runtime.js';
import type { PeerTls } from './transport/types.js';

export interface ControllerOptions {
  readonly dataDir: string;
  readonly name?: string;
  readonly api: { readonly host: string; readonly port: number };
  readonly cluster: { readonly host: string; readonly port: number };
  readonly advertise?: string;
  /** Start a new one-node cluster on an empty data directory (ignored once it has state). */
  readonly bootstrap?: {
    readonly adminUsername?: string;
    /** The first admin's password; generated (and written to `<dataDir>/admin-password`) when absent. */
    readonly adminPassword?: string;
    /** The cluster secret; generated (and written to `<dataDir>/cluster-secret`) when absent. */
    readonly secret?: string;
    /** A backup to seed the new cluster from (`meshdesk restore`). */
    readonly seed?: Uint8Array;
  };
  /** Join an existing cluster through one of its members' API (ignored once it has state). */
  readonly join?: JoinTarget;
  /** Serve the admin UI from this directory. */
  readonly uiDir?: string;
  readonly logger?: Logger;
  /**
   * Test-only: the Jepsen suite's fault hooks (`/debug` routes, a snapshot write that can kill the
   * process). `meshdesk start` sets it only under MESHDESK_FAULT_INJECTION=1; never in production.
   */
  readonly faultInjection?: boolean;
  /** Raft timing (tests shorten it). */
  readonly replica?: { readonly tickMs?: number; readonly snapshotEvery?: number };
}

export interface Controller {
  readonly node: ControllerNode;
  readonly model: ModelStateMachine;
  /** Links, circuits and the router channel on the cluster listener. */
  readonly runtime: ControllerRuntime;
  /** Base URL of the API (and the UI), e.g. http://127.0.0.1:8440 */
  readonly url: string;
  /** Set when this start created the first admin with a generated password: show it once. */
  readonly generatedAdminPassword?: string;
  stop(): Promise<void>;
}

const SECRET_FILE = 'cluster-secret';
const ADMIN_PASSWORD_FILE = 'admin-password';

export async function startController(options: ControllerOptions): Promise<Controller> {
  const logger = options.logger ?? pino({ level: 'info' });
  const secretFile = join(options.dataDir, SECRET_FILE);
  const storedSecret = await readSecretFile(secretFile);
  const secret =
    storedSecret ??
    options.bootstrap?.secret ??
    options.join?.secret ??
    (options.bootstrap ? randomSecret() : undefined);
  if (!secret)
    throw new Error('no cluster secret: pass --secret or set MESHDESK_CLUSTER_SECRET to join a cluster');
  const model = await ModelStateMachine.create();
  const apiHost = publicHost(options.api.host, options.advertise);
  const joining = options.join && !storedSecret ? await prepareJoin(options.join) : undefined;
  const faults = options.faultInjection === true ? new FaultInjection() : undefined;
  const certificateHost = publicHost(options.cluster.host, options.advertise).replace(/^\[|\]$/g, '');
  let tls: PeerTls | undefined;
  const credentials: CredentialSource = async (identity) => {
    tls =
      (await loadCredentials(options.dataDir)) ??
      (await firstCredentials(
        options,
        identity,
        [certificateHost],
        joining,
        storedSecret !== undefined,
        logger,
      ));
    return () => tls as PeerTls;
  };
  const node = await createNode({
    dataDir: options.dataDir,
    ...(options.name ? { name: options.name } : {}),
    cluster: options.cluster,
    ...(options.advertise ? { advertise: options.advertise } : {}),
    credentials,
    ...(joining ? { clusterId: joining.clusterId } : {}),
    ...(options.bootstrap
      ? {
          bootstrap: {
            ...(options.bootstrap.seed ? { seed: options.bootstrap.seed } : {}),
            // With a fixed API port the first member's apiUrl is known now; with port 0 it is not.
            ...(options.api.port !== 0 ? { apiUrl: `http://${apiHost}:${options.api.port}` } : {}),
          },
        }
      : {}),
    stateMachine: model,
    logger,
    ...(options.replica ? { replica: options.replica } : {}),
    ...(faults ? { storage: { onSnapshotStep: faults.onSnapshotStep } } : {}),
  });
  if (faults) {
    faults.attach(node.transport);
    node.logger.warn('test-only fault injection is enabled (MESHDESK_FAULT_INJECTION=1)');
  }
  const runtime = new ControllerRuntime({
    self: node.id,
    selfName: node.name,
    secret,
    namespace: node.transport.namespace(ROUTER_NAMESPACE),
    database: () => model.model,
    log: node.logger.child({ component: 'runtime' }),
  });
  // Health says up, and login answers, only once this start has finished (api/readiness.ts).
  let started = false;
  try {
    const cluster = createClusterOps({
      clusterId: node.clusterId,
      replica: node.replica,
      transport: node.transport,
      logger,
    });
    const context: ApiContext = {
      nodeId: node.id,
      clusterId: node.clusterId,
      name: node.name,
      replica: node.replica,
      model,
      cluster,
      certificates: createCertificateAuthority({
        clusterId: node.clusterId,
        db: () => model.model,
        members: () => {
          const { conf } = node.replica.status();
          return [...conf.voters, ...conf.learners];
        },
      }),
      clusterSecret: secret,
      logger,
      transportStats: () => node.transport.stats(),
      runtime,
      circuits: new CircuitDirectory(runtime, node.replica, node.transport),
      started: () => started,
      ...(faults ? { faults } : {}),
    };
    const server = await createApiServer(context, {
      host: options.api.host,
      port: options.api.port,
      ...(options.uiDir ? { uiDir: options.uiDir } : {}),
    });
    const url = `http://${apiHost}:${new URL(server.url).port}`;
    if (joining) {
      const { index } = await requestMembership(joining, {
        id: node.id,
        name: node.name,
        address: node.advertise,
        apiUrl: url,
      });
      await node.replica.waitForIndex(index, 60_000);
    }
    // Written once the node belongs to its cluster: a data directory with the secret "has state",
    // so a join that failed (wrong secret, unreachable member) is simply tried again next start.
    if (!storedSecret) await writeSecretFile(secretFile, secret);
    const generatedAdminPassword =
      options.bootstrap || (await hasPendingCa(options.dataDir))
        ? await ensureBootstrapState(node, model, options.dataDir, options.bootstrap)
        : undefined;
    const renewal = new CertificateRenewal({
      dataDir: options.dataDir,
      name: { clusterId: node.clusterId, nodeId: node.id, hosts: [certificateHost] },
      db: () => model.model,
      current: () => tls as PeerTls,
      install: (renewed) => {
        tls = renewed;
        node.transport.reloadCredentials();
      },
      logger: node.logger,
    });
    renewal.start();
    started = true;
    return {
      node,
      model,
      runtime,
      url,
      ...(generatedAdminPassword ? { generatedAdminPassword } : {}),
      async stop() {
        renewal.stop();
        runtime.close();
        await server.close();
        await node.stop();
      },
    };
  } catch (err) {
    runtime.close();
    await node.stop();
    throw err;
  }
}

/**
 * A node's first credentials: a new cluster CA when it bootstraps a cluster, a certificate signed
 * by a member when it joins one. A data directory with state but no credentials was made by a
 * meshdesk from before certificates: it cannot talk to anyone now, so say how to move it over.
 */
async function firstCredentials(
  options: ControllerOptions,
  identity: NodeIdentity,
  hosts: readonly string[],
  joining: PreparedJoin | undefined,
  hasState: boolean,
  logger: Logger,
): Promise<PeerTls> {
  const name: ControllerName = { clusterId: identity.clusterId, nodeId: identity.nodeId, hosts };
  if (hasState) {
    throw new Error(
      `${options.dataDir} was made by a meshdesk without cluster certificates (${credentialsDir(options.dataDir)} is missing): ` +
        `stop every node, run 'meshdesk backup --data-dir ${options.dataDir} --out model.sqlite' with the old data, ` +
        `'meshdesk restore --from model.sqlite --data-dir NEW', start NEW, and join the others to it afresh (docs/ARCHITECTURE.md, upgrading)`,
    );
  }
  if (joining) {
    const { keyPem, csrPem } = await createKeyAndCsr(identity.nodeId);
    const host = hosts[0] ?? '127.0.0.1';
    const issued = await requestCertificate(joining, { id: identity.nodeId, host, csr: csrPem });
    // Until join tokens pin the CA, trust is whatever the member sent: say which, once.
    logger.warn(
      { ca: issued.fingerprint, member: joining.url },
      'joined with the cluster CA the member sent; check its SHA-256 fingerprint against `meshdesk cluster ca` on a member',
    );
    const credentials = { key: keyPem, cert: issued.certificate, ca: issued.ca };
    await saveCredentials(options.dataDir, credentials);
    return credentials;
  }
  if (options.bootstrap) return bootstrapClusterCa(options.dataDir, name);
  throw new Error(`${options.dataDir} holds no cluster credentials: start with --bootstrap or --join`);
}

/**
 * What a bootstrapped cluster needs in its model, proposed once the node leads, as one batch: the
 * first admin (with the token signing key) unless an admin exists, and the cluster CA that waits
 * on disk unless the model holds it. Runs on every `--bootstrap` start (and while a CA waits), so
 * a crash between creating the cluster and this batch is repaired by starting again. Returns a
 * generated admin password.
 */
async function ensureBootstrapState(
  node: ControllerNode,
  model: ModelStateMachine,
  dataDir: string,
  bootstrap: ControllerOptions['bootstrap'],
): Promise<string | undefined> {
  await waitForLeader(node);
  await node.replica.read('linearizable');
  const at = new Date().toISOString();
  const commands: SingleCommand[] = await pendingCaCommands(dataDir, model.model, at);
  let generated: string | undefined;
  if (bootstrap && Number(model.model.value('SELECT count(*) FROM admins')) === 0) {
    const passwordFile = join(dataDir, ADMIN_PASSWORD_FILE);
    const given = bootstrap.adminPassword ?? (await readSecretFile(passwordFile));
    const password = given ?? randomSecret(18);
    if (!given) await writeSecretFile(passwordFile, password);
    const first = await firstAdminCommand({ username: bootstrap.adminUsername ?? 'admin', password });
    commands.push(...(first.op === 'batch' ? first.commands : [first]));
    generated = given ? undefined : password;
  }
  if (commands.length > 0) {
    const { result } = await node.replica.propose(encodeCommand({ op: 'batch', commands }));
    if ((result as { ok?: boolean }).ok !== true) {
      throw new Error(`could not create the first admin and the cluster CA: ${JSON.stringify(result)}`);
    }
  }
  await clearPendingCa(dataDir);
  return generated;
}

async function waitForLeader(node: ControllerNode, timeoutMs = 30_000): Promise<void> {
  if (node.replica.status().leader !== NONE) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      node.replica.off('leader', onLeader);
      reject(new Error(`no leader elected within ${timeoutMs} ms`));
    }, timeoutMs);
    const onLeader = (): void => {
      clearTimeout(timer);
      node.replica.off('leader', onLeader);
      resolve();
    };
    node.replica.on('leader', onLeader);
  });
}

/** The host others reach a listener on: a wildcard bind is reached through the advertised host. */
function publicHost(bindHost: string, advertise: string | undefined): string {
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const advertised = advertise?.replace(/:\d+$/, '');
  return advertised && advertised !== '0.0.0.0' ? advertised : '127.0.0.1';
}
