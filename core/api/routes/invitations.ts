/**
 * `/cluster/invitations`: one-time join tokens, the admin's side; `/cluster/join`, the member's
 * side, where a joining node spends one for its certificate. A token is minted here: its id,
 * secret, time and expiry are chosen on this node, only the secret's hash is proposed, and the
 * token — the only copy of the secret — is answered once (`Cache-Control: no-store`) and never
 * logged. It names this node's API as the member to ask and pins the cluster's root CA by its
 * fingerprint; the model's intermediate CA signs it (core/cluster/join-token.ts).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  invitationSecretHash,
  mintJoinToken,
  newInvitationSecret,
  parseJoinToken,
  signedBy,
  type JoinTokenPayload,
  type ParsedJoinToken,
} from '../../cluster/join-token.js';
import { requireClusterCa } from '../../cluster/cluster-ca.js';
import type { InvitationKind } from '../../model/commands.js';
import type { AppliedInvitation } from '../../model/invitations.js';
import type { EnrolledCertificate } from '../../model/router-certificates.js';
import { listInvitations } from '../../model/invitations.js';
import { fingerprint } from '../../pki/ca.js';
import { ApiProblem } from '../problem.js';
import { propose, type WriteResult } from '../writes.js';
import {
  createdInvitation,
  createInvitationBody,
  invitationList,
  invitation as invitationSchema,
  invitationParams,
  issuedCertificate,
  joinBody,
} from '../../../contract/index.js';
import type { ApiDeps, ZodApp } from '../deps.js';

const MINUTE_MS = 60_000;

export function invitationRoutes(app: ZodApp, s: ApiDeps): void {
  const tags = ['cluster'];

  app.post(
    '/cluster/invitations',
    {
      schema: {
        tags,
        operationId: 'createInvitation',
        summary: 'Mint a one-time join token for a new controller (shown once)',
        body: createInvitationBody,
        response: { 201: createdInvitation },
        problems: [503, 504],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const minted = await mintInvitation(s, request, request.body.expiresInMinutes, { kind: 'controller' });
      return sendMinted(reply, minted);
    },
  );

  app.post(
    '/cluster/join',
    {
      schema: {
        tags,
        operationId: 'join',
        summary:
          'Spend a join token for a joining node’s certificate (no bearer token: the join token is the credential, good once)',
        body: joinBody,
        response: { 201: issuedCertificate },
        problems: [403, 409, 410, 503, 504],
        answerHeaders: ['x-raft-index'],
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const { token, id, host, hosts, csr } = request.body;
      const ca = requireClusterCa(s.db());
      const invitation = checkedToken(token, s.ctx.clusterId, ca.intermediateCertPem, 'controller');
      // The certificate is made first, so that a bad CSR does not spend the token; it is handed
      // out only once the token's use has committed.
      const issued = await s.ctx.certificates.issueForJoin({ id, host, ...(hosts ? { hosts } : {}), csr });
      const write = await spendInvitation(s, invitation, id);
      reply.header('x-raft-index', String(write.index)).header('cache-control', 'no-store');
      return reply.code(201).send({ ...issued, fingerprint: fingerprint(issued.ca) });
    },
  );

  app.get(
    '/cluster/invitations',
    {
      schema: {
        tags,
        operationId: 'listInvitations',
        summary: 'Join tokens with their state (pending, used, expired, revoked); never their secrets',
        response: { 200: invitationList },
      },
    },
    async () => ({ data: listInvitations(s.db(), new Date().toISOString()) }),
  );

  app.delete(
    '/cluster/invitations/:id',
    {
      schema: {
        tags,
        operationId: 'revokeInvitation',
        summary: 'Revoke a join token that has not been used',
        params: invitationParams,
        response: { 200: invitationSchema },
        problems: [404, 410, 503, 504],
        answerHeaders: ['x-raft-index'],
      },
    },
    async (request, reply) => {
      const at = new Date().toISOString();
      const write = await propose(
        s.ctx.replica,
        s.metrics,
        { op: 'revokeInvitation', id: request.params.id, at },
        { at },
      );
      reply.header('x-raft-index', String(write.index));
      return appliedInvitation(write);
    },
  );
}

export interface MintedInvitation {
  readonly token: string;
  readonly invitation: AppliedInvitation['invitation'];
  readonly index: number;
}

/**
 * Proposes a new invitation (only its secret's hash) and mints its token, naming this node's API
 * as the member to ask. The token is the only copy of the secret: answer it once, never log it.
 */
export async function mintInvitation(
  s: ApiDeps,
  request: FastifyRequest,
  expiresInMinutes: number,
  what: { readonly kind: InvitationKind; readonly subject?: string },
): Promise<MintedInvitation> {
  const ca = requireClusterCa(s.db());
  const now = Date.now();
  const at = new Date(now).toISOString();
  const expiresAt = new Date(now + expiresInMinutes * MINUTE_MS).toISOString();
  const id = randomBytes(9).toString('base64url');
  const secret = newInvitationSecret();
  const command = {
    op: 'createInvitation' as const,
    id,
    ...what,
    secretHash: invitationSecretHash(secret),
    at,
    expiresAt,
    ...(request.admin ? { createdBy: request.admin.adminId } : {}),
  };
  const write = await propose(s.ctx.replica, s.metrics, command, { at });
  const token = mintJoinToken(
    {
      v: 1,
      ...what,
      clusterId: s.ctx.clusterId,
      member: memberUrl(s, request),
      caFingerprint: fingerprint(ca.rootCertPem),
      id,
      secret,
      expiresAt,
    },
    ca.intermediateKeyPem,
  );
  return { token, invitation: appliedInvitation(write), index: write.index };
}

/** The 201 of a minted token: shown this once, so never cached. */
export function sendMinted(reply: FastifyReply, minted: MintedInvitation): FastifyReply {
  reply.header('x-raft-index', String(minted.index)).header('cache-control', 'no-store');
  return reply.code(201).send({ token: minted.token, invitation: minted.invitation });
}

/**
 * Spends the token's invitation for `by` (a joining node's id, an enrolling router's) by a Raft
 * write; a router's names the certificate it enrolled for.
 */
export function spendInvitation(
  s: ApiDeps,
  token: JoinTokenPayload,
  by: string,
  certificate?: EnrolledCertificate,
): Promise<WriteResult> {
  const at = new Date().toISOString();
  const redeem = {
    op: 'redeemInvitation' as const,
    id: token.id,
    secretHash: invitationSecretHash(token.secret),
    at,
    by,
    ...(certificate ? { certificate } : {}),
  };
  return propose(s.ctx.replica, s.metrics, redeem, { at });
}

/** The token's invitation, if it is a token of `kind` this cluster signed; else a one-line refusal. */
export function checkedToken(
  token: string,
  clusterId: string,
  intermediateCertPem: string,
  kind: InvitationKind,
): JoinTokenPayload {
  let parsed: ParsedJoinToken;
  try {
    parsed = parseJoinToken(token);
  } catch (err) {
    throw new ApiProblem(400, 'INVALID', (err as Error).message, [
      { field: 'token', message: (err as Error).message },
    ]);
  }
  if (parsed.payload.clusterId !== clusterId) {
    throw new ApiProblem(
      403,
      'WRONG_CLUSTER',
      `the join token is for cluster ${parsed.payload.clusterId}, not ${clusterId}`,
    );
  }
  if (!signedBy(parsed, intermediateCertPem)) {
    throw new ApiProblem(
      403,
      'INVITATION_UNKNOWN',
      'the join token was not signed by this cluster, or it was altered',
    );
  }
  if (parsed.payload.kind !== kind) {
    throw new ApiProblem(403, 'WRONG_KIND', `a ${parsed.payload.kind} token cannot enroll a ${kind}`);
  }
  return parsed.payload;
}

export function appliedInvitation(write: WriteResult): AppliedInvitation['invitation'] {
  const result = write.result;
  if (result.op === 'batch' || !('invitation' in result)) {
    throw new Error(`a ${result.op} write answered where an invitation write was expected`);
  }
  return result.invitation;
}

/** The API a joiner should ask: this node's, as the membership records it, else as it was reached. */
export function memberUrl(s: ApiDeps, request: FastifyRequest): string {
  const self = s.ctx.cluster.view().members.find((m) => m.id === s.ctx.nodeId);
  return self?.apiUrl ?? `${request.protocol}://${request.headers.host ?? 'localhost'}`;
}
