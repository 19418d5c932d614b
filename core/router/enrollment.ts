/**
 * A router's side of enrollment (`meshdesk router enroll`): it trusts nothing it has not been
 * told by the token. As a joining controller does (core/cluster/join.ts), it pins the cluster's
 * root CA by the token's fingerprint, then sends a CSR for a key made here (the key never leaves
 * this machine) with the token, and keeps the answer only if its certificate chains to the pinned
 * root, names the token's router of the token's cluster, and comes from the intermediate that
 * signed the token.
 */
import { routerEnrollment } from '../../contract/index.js';
import { ask, prepareJoin } from '../cluster/join.js';
import { parseJoinToken, signedBy } from '../cluster/join-token.js';
import { certificatesOf, createKeyAndCsr, spiffeId, spiffeIdsOf, verifyChain } from '../pki/ca.js';
import type { RouterIdentity } from './identity.js';

export interface EnrollOptions {
  /** How long to keep trying to reach the member the token names (default 30 s). */
  readonly timeoutMs?: number;
}

export async function enrollRouter(token: string, options: EnrollOptions = {}): Promise<RouterIdentity> {
  const join = await prepareJoin(
    { token, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) },
    { kind: 'router' },
  );
  const parsed = parseJoinToken(token);
  const subject = parsed.payload.subject;
  if (!subject) throw new Error('the enrollment token names no router: ask an admin for a new one');
  const { keyPem, csrPem } = await createKeyAndCsr(subject);
  const answer = await ask(join, 'enroll the router', () =>
    join.api.send(
      {
        method: 'POST',
        path: '/routers/enroll',
        body: { token, csr: csrPem },
        auth: false,
        timeoutMs: 30_000,
      },
      routerEnrollment,
    ),
  );
  const body = answer.body;
  const [leaf, intermediate, ...above] = certificatesOf(body.certificate);
  const expected = spiffeId(join.clusterId, 'router', subject);
  if (
    !leaf ||
    !intermediate ||
    body.clusterId !== join.clusterId ||
    body.router.id !== subject ||
    !verifyChain(leaf, [intermediate, ...above], join.ca) ||
    !spiffeIdsOf(leaf).includes(expected) ||
    !signedBy(parsed, intermediate)
  ) {
    throw new Error(`${join.member} answered with a certificate that is not ${expected} from the pinned CA`);
  }
  const controllers = body.controllers;
  if (controllers.length === 0) throw new Error(`${join.member} named no controller to connect to`);
  return {
    v: 1,
    clusterId: join.clusterId,
    router: body.router,
    key: keyPem,
    certificate: body.certificate,
    ca: join.ca,
    controllers,
  };
}
