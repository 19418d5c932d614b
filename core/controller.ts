/**
 * A controller node: the replicated model (core/model), the Raft node carrying it (node.ts),
 * cluster operations (core/cluster) and the REST API (core/api), composed. `meshdesk start` and
 * the desktop app run one of these; nothing else composes them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { firstAdminCommand } from './api/bootstrap.js';
import {
  apiHostNames,
  certificateHostNames,
  isLoopback,
  isWildcard,
  publicHost,
  thisMachinesLanAddress,
} from './hosts.js';
import type { ApiContext } from './api/context.js';
import { openTokenKeyStore } from './api/token-keys.js';
import { ADMIN_PASSWORD_FILE, retireAdminPasswordFile } from './admin-password-file.js';
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
import { legacySecretFile, retireLegacySecret } from './cluster/legacy-secret.js';
import { CertificateRenewal } from './cluster/renewal.js';
import { FaultInjection } from './fault-injection.js';
import { randomSecret, readSecretFile, writeSecretFile } from './files.js';
import { encodeCommand, type ModelCommand, type SingleCommand } from './model/commands.js';
import type { ModelErrorResult } from './model/errors.js';
import {
  enrollsRouter,
  ModelStateMachine,
  finishesRotation,
  renewedControllers,
  retiresController,
  rotatesIntermediate,
  touches,
} from './model/state-machine.js';
import { controllerRetired } from './model/retired-controllers.js';
import { ControllerRevocation, type Membership } from './cluster/controller-revocation.js';
import { TrustedIssuers } from './cluster/trusted-issuers.js';
import { controllerCertificate } from './model/ca-trust.js';
import { RETIRED_ISSUER } from './transport/cert-auth.js';
import { createNode, type ControllerNode, type CredentialSource, type NodeIdentity } from './node.js';
import { createKeyAndCsr, enrolledCertificate, fingerprint } from './pki/ca.js';
import { readClusterCa } from './model/pki.js';
import { issueRouterCertificate } from './cluster/cluster-ca.js';
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
    /** A backup to seed the new cluster from (`meshdesk restore`). */
    readonly seed?: Uint8Array;
  };
  /**
   * Join an existing cluster with a one-time join token (ignored once the node has its certificate
   * and belongs to the cluster).
   */
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

export async function startController(options: ControllerOptions): Promise<Controller> {
  const logger = options.logger ?? pino({ level: 'info' });
  const storedTls = await loadCredentials(options.dataDir);
  // The shared secret of versions before certificates: retired (its file removed) on this start.
  if (!storedTls && existsSync(legacySecretFile(options.dataDir)))
    throw madeWithoutCertificates(options.dataDir);
  await retireLegacySecret(options.dataDir, logger);
  const model = await ModelStateMachine.create();
  // Bound to every interface and told nothing: peers reach it at this machine's LAN address.
  const lan =
    options.advertise === undefined && isWildcard(options.cluster.host)
      ? await thisMachinesLanAddress()
      : undefined;
  if (lan) {
    logger.info(
      { address: lan.address, why: lan.why },
      'advertising this address to the cluster (--advertise chooses another)',
    );
  }
  const advertise =
    options.advertise ??
    (lan && options.cluster.port !== 0 ? `${lan.address}:${options.cluster.port}` : undefined);
  const advertisedHost = advertise ?? lan?.address;
  const apiHost = publicHost(options.api.host, advertisedHost);
  const joining = options.join && !storedTls ? await prepareJoin(options.join) : undefined;
  const faults = options.faultInjection === true ? new FaultInjection() : undefined;
  // A bind beyond loopback speaks HTTPS only: passwords and tokens must not cross the LAN in clear.
  const apiScheme = isLoopback(options.api.host) ? 'http' : 'https';
  // One certificate for the cluster listener and the API: it names every host either is reached at.
  const certificateHosts = certificateHostNames({
    clusterHost: options.cluster.host,
    apiHost: options.api.host,
    advertise: advertisedHost,
  });
  // A removed member's certificates open nothing (cluster/controller-revocation.ts); the
  // membership is the node's, known once it runs.
  const membership: { of?: () => Membership } = {};
  const revocation = new ControllerRevocation(
    () => model.model,
    () => membership.of?.(),
  );
  // A finished CA rotation retires the earlier intermediates: their certificates open nothing.
  const issuers = new TrustedIssuers(() => model.model);
  let tls: PeerTls | undefined = storedTls;
  const credentials: CredentialSource = async (identity) => {
    tls ??= await firstCredentials(options, identity, certificateHosts, joining);
    return () => tls as PeerTls;
  };
  const node = await createNode({
    dataDir: options.dataDir,
    ...(options.name ? { name: options.name } : {}),
    cluster: options.cluster,
    ...(advertise ? { advertise } : {}),
    ...(lan ? { advertiseHost: lan.address } : {}),
    credentials,
    revokedPeer: (peer) => revocation.revoked(peer),
    issuerTrusted: (issuer) => issuers.trusted(issuer),
    ...(joining ? { clusterId: joining.clusterId } : {}),
    ...(options.bootstrap
      ? {
          bootstrap: {
            ...(options.bootstrap.seed ? { seed: options.bootstrap.seed } : {}),
            // With a fixed API port the first member's apiUrl is known now; with port 0 it is not.
            ...(options.api.port !== 0 ? { apiUrl: `${apiScheme}://${apiHost}:${options.api.port}` } : {}),
          },
        }
      : {}),
    stateMachine: model,
    logger,
    ...(options.replica ? { replica: options.replica } : {}),
    ...(faults ? { storage: { onSnapshotStep: faults.onSnapshotStep } } : {}),
  });
  membership.of = () => node.replica.status().conf;
  if (faults) {
    faults.attach(node.transport);
    node.logger.warn('fault injection is enabled (MESHDESK_FAULT_INJECTION=1: tests and labs only)');
  }
  const runtime = new ControllerRuntime({
    self: node.id,
    selfName: node.name,
    clusterId: node.clusterId,
    appliedIndex: () => node.replica.appliedIndex(),
    revokedControllers: () => revocation.list(),
    trustedIssuers: () => issuers.list(),
    async renewRouterCertificate(routerId, previousSerial, csr) {
      const issued = await issueRouterCertificate(model.model, node.clusterId, routerId, csr);
      const at = new Date().toISOString();
      const certificate = enrolledCertificate(issued.certificate);
      await proposeModelCommand(
        node,
        { op: 'renewRouterCertificate', routerId, previousSerial, certificate, at },
        `could not record router ${routerId}'s renewed certificate`,
      );
      return { certificate: issued.certificate, ca: issued.ca };
    },
    namespace: node.transport.namespace(ROUTER_NAMESPACE),
    admit: (socket) => node.transport.admit(socket),
    database: () => model.model,
    log: node.logger.child({ component: 'runtime' }),
  });
  // A deleted, disabled or re-enrolled router loses its live session on the apply that says so.
  // A removed member's connections close, here and at the routers, once the removal applies.
  const enforceRevocations = (): void => {
    revocation.enforce((peer) => node.transport.disconnectInbound(peer), node.logger);
    runtime.trustChanged();
  };
  node.replica.on('membership', enforceRevocations);
  // A finished CA rotation: connections still on a certificate of a retired intermediate close
  // (the peer reconnects on its renewed one), here and, told by runtime, at the routers.
  const enforceRetiredIssuers = (): void => {
    const dropped = node.transport.dropRetiredIssuers();
    if (dropped.length > 0) {
      node.logger.warn({ peers: dropped, reason: RETIRED_ISSUER }, 'closed peer connections');
    }
    runtime.trustChanged();
  };
  const stopModelChecks = model.onApplied((batch) => {
    // A member renewed: our connection to it moves onto its new certificate (make before break),
    // so that none is left on an earlier intermediate's when a rotation finishes.
    for (const { nodeId, serial } of renewedControllers(batch)) {
      if (nodeId !== node.id) node.transport.peerRenewed(nodeId, serial);
    }
    if (retiresController(batch)) enforceRevocations();
    else if (finishesRotation(batch)) enforceRetiredIssuers();
    else if (touches(batch, 'routers') || enrollsRouter(batch) || rotatesIntermediate(batch))
      runtime.trustChanged();
  });
  const stopRouterChecks = (): void => {
    stopModelChecks();
    node.replica.off('membership', enforceRevocations);
  };
  const recordCertificate = (): void => {
    recordOwnCertificate(node, model, (tls as PeerTls).cert).catch((err: unknown) =>
      node.logger.warn({ err: String(err) }, 'could not record this node’s certificate; will retry'),
    );
  };
  // Health says up, and login answers, only once this start has finished (api/readiness.ts).
  let started = false;
  try {
    const cluster = createClusterOps({
      clusterId: node.clusterId,
      replica: node.replica,
      transport: node.transport,
      logger,
      retirement: {
        retire: (id) =>
          proposeModelCommand(
            node,
            { op: 'retireController', nodeId: id, at: new Date().toISOString() },
            `could not record ${id} as removed`,
          ),
        retired: (id) => controllerRetired(model.model, id),
      },
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
        dataDir: options.dataDir,
        db: () => model.model,
        members: () => {
          const { conf } = node.replica.status();
          return [...conf.voters, ...conf.learners];
        },
      }),
      tokenKeys: await openTokenKeyStore(options.dataDir),
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
      ...(apiScheme === 'https' ? { tls: tls as PeerTls } : {}),
      hosts: apiHostNames(options.api.host, certificateHosts),
    });
    const url = `${apiScheme}://${apiHost}:${new URL(server.url).port}`;
    // A node with its certificate that no member knows yet (a join cut short after the token was
    // spent) finishes the join: it asks again, as itself, with the same token's member and CA.
    const unfinished =
      options.join && !joining && !belongsToACluster(node)
        ? await prepareJoin(options.join, { resume: true })
        : undefined;
    const asking = joining ?? unfinished;
    if (asking) {
      const { index } = await requestMembership(
        asking,
        { id: node.id, name: node.name, address: node.advertise, apiUrl: url },
        tls as PeerTls,
      );
      await node.replica.waitForIndex(index, 60_000);
    }
    const generatedAdminPassword =
      options.bootstrap || (await hasPendingCa(options.dataDir))
        ? await ensureBootstrapState(node, model, options.dataDir, options.bootstrap)
        : undefined;
    const stopWatchingPasswordFile = retireAdminPasswordFile({
      dataDir: options.dataDir,
      username: options.bootstrap?.adminUsername ?? 'admin',
      model,
      logger: node.logger,
    });
    const renewal = new CertificateRenewal({
      dataDir: options.dataDir,
      name: { clusterId: node.clusterId, nodeId: node.id, hosts: certificateHosts },
      db: () => model.model,
      current: () => tls as PeerTls,
      install: (renewed) => {
        tls = renewed;
        node.transport.reloadCredentials();
        server.reloadTls(renewed);
        recordCertificate();
      },
      logger: node.logger,
    });
    renewal.start();
    // The cluster's root changed (a rotation that introduced one finished): this node trusts it,
    // and only it, from now on, here and in the CLI beside it (tls/ca.pem). A node that learns
    // of it from a snapshot instead takes it with its next renewal; meanwhile the chains it meets
    // carry the cross-certificate to the root it has, and the retired intermediates are refused
    // by fingerprint all the same.
    const adoptRoot = async (): Promise<void> => {
      const root = readClusterCa(model.model)?.rootCertPem;
      const current = tls as PeerTls;
      if (root === undefined || root === current.ca) return;
      const adopted = { ...current, ca: root };
      await saveCredentials(options.dataDir, adopted);
      tls = adopted;
      node.transport.reloadCredentials();
      server.reloadTls(adopted);
      node.logger.warn({ root: fingerprint(root) }, 'trusts the cluster’s new root CA, and only it');
    };
    const adoptRootLogged = (): void =>
      void adoptRoot().catch((err: unknown) =>
        node.logger.error({ err: String(err) }, 'could not take the cluster’s new root CA'),
      );
    // A rotated intermediate: this node re-issues its own certificate from the new one at once.
    const stopRotationCheck = model.onApplied((batch) => {
      if (rotatesIntermediate(batch)) void renewal.check();
      if (finishesRotation(batch)) adoptRootLogged();
    });
    // The model knows which certificate each member uses (a rotation finishes once all are new):
    // this node says so now, after each renewal, and again when a leader is elected (a failed
    // attempt is tried again then).
    node.replica.on('leader', recordCertificate);
    recordCertificate();
    started = true;
    return {
      node,
      model,
      runtime,
      url,
      ...(generatedAdminPassword ? { generatedAdminPassword } : {}),
      async stop() {
        stopWatchingPasswordFile();
        stopRouterChecks();
        stopRotationCheck();
        node.replica.off('leader', recordCertificate);
        renewal.stop();
        runtime.close();
        await server.close();
        await node.stop();
      },
    };
  } catch (err) {
    stopRouterChecks();
    runtime.close();
    await node.stop();
    throw err;
  }
}

/**
 * A node's first credentials: a new cluster CA when it bootstraps a cluster, a certificate the
 * cluster signs for its join token when it joins one.
 */
async function firstCredentials(
  options: ControllerOptions,
  identity: NodeIdentity,
  hosts: readonly string[],
  joining: PreparedJoin | undefined,
): Promise<PeerTls> {
  const name: ControllerName = { clusterId: identity.clusterId, nodeId: identity.nodeId, hosts };
  if (joining) {
    const { keyPem, csrPem } = await createKeyAndCsr(identity.nodeId);
    const [host = '127.0.0.1', ...more] = hosts;
    const issued = await requestCertificate(joining, { id: identity.nodeId, host, hosts: more, csr: csrPem });
    const credentials = { key: keyPem, cert: issued.certificate, ca: issued.ca };
    await saveCredentials(options.dataDir, credentials);
    return credentials;
  }
  if (options.bootstrap) return bootstrapClusterCa(options.dataDir, name);
  throw new Error(
    `${options.dataDir} holds no cluster credentials: start with --bootstrap, or --join with a token from 'meshdesk cluster invite'`,
  );
}

/**
 * A data directory with the old shared secret but no credentials was made by a meshdesk from
 * before certificates: it cannot talk to anyone now, so say how to move it over.
 */
function madeWithoutCertificates(dataDir: string): Error {
  return new Error(
    `${dataDir} was made by a meshdesk without cluster certificates (${credentialsDir(dataDir)} is missing): ` +
      `stop every node, run 'meshdesk backup --data-dir ${dataDir} --out model.sqlite' with the old data, ` +
      `'meshdesk restore --from model.sqlite --data-dir NEW', start NEW, and join the others to it afresh (docs/ARCHITECTURE.md, upgrading)`,
  );
}

/**
 * Proposes a command this node makes for itself; a refusal (every node's alike) becomes an Error
 * saying `what` failed, with the model's `code`.
 */
async function proposeModelCommand(node: ControllerNode, command: ModelCommand, what: string): Promise<void> {
  const { result } = await node.replica.propose(encodeCommand(command));
  const refused = result as Partial<ModelErrorResult>;
  if (refused.ok === false && refused.error) {
    throw Object.assign(new Error(`${what}: ${refused.error.message}`), { code: refused.error.code });
  }
}

/** Records the certificate this node uses in the model, unless the model says so already. */
async function recordOwnCertificate(
  node: ControllerNode,
  model: ModelStateMachine,
  chainPem: string,
): Promise<void> {
  const { serial, expiresAt, issuer } = enrolledCertificate(chainPem);
  if (!issuer || controllerCertificate(model.model, node.id)?.serial === serial) return;
  await proposeModelCommand(
    node,
    {
      op: 'recordControllerCertificate',
      nodeId: node.id,
      certificate: { serial, expiresAt, issuer },
      at: new Date().toISOString(),
    },
    'could not record this node’s certificate',
  );
}

/** Whether this node is in the configuration it knows (a node not yet added knows none). */
function belongsToACluster(node: ControllerNode): boolean {
  const { conf } = node.replica.status();
  return [...conf.voters, ...conf.learners].includes(node.id);
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
    await proposeModelCommand(
      node,
      { op: 'batch', commands },
      'could not create the first admin and the cluster CA',
    );
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
