/**
 * Routers as an admin and a router's machine make them: created and enrolled through a
 * controller's API (`meshdesk router invite` + `meshdesk router enroll` do the same), then run
 * in-process on their own certificates; and the one way tests ask a router's mutual-TLS status
 * endpoint.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { certificateCredentials, type RouterCredentials } from '../../core/router/credentials.js';
import { enrollRouter } from '../../core/router/enrollment.js';
import type { RouterIdentity } from '../../core/router/identity.js';
import { RouterAgent, type RouterAgentOptions } from '../../core/router/router-agent.js';
import { callController } from './controller-api.js';

/** A router of the model (by id) enrolled for a certificate of its own. */
export async function enrollThrough(url: string, token: string, routerId: string): Promise<RouterIdentity> {
  const minted = await callController(url, 'POST', `/routers/${routerId}/enrollment`, { token, body: {} });
  if (minted.status !== 201) throw new Error(`minting failed: ${minted.status} ${await minted.text()}`);
  return enrollRouter(((await minted.json()) as { token: string }).token);
}

/** A new router of the model named `name`, enrolled. */
export async function createEnrolledRouter(
  url: string,
  token: string,
  name: string,
): Promise<RouterIdentity> {
  const created = await callController(url, 'POST', '/routers', { token, body: { name, cost: 10 } });
  if (created.status !== 201)
    throw new Error(`creating ${name} failed: ${created.status} ${await created.text()}`);
  return enrollThrough(url, token, ((await created.json()) as { id: string }).id);
}

/** A router agent on `identity`'s certificate, dialing the controllers the identity names. */
export function startEnrolledRouter(
  identity: RouterIdentity,
  options: Partial<Omit<RouterAgentOptions, 'credentials'>> = {},
): Promise<RouterAgent> {
  return RouterAgent.start({
    controllers: identity.controllers,
    credentials: certificateCredentials(identity),
    ...options,
  });
}

/** A request to a router's status endpoint with a client certificate (mutual TLS). */
export async function fetchAsCertificate(
  url: string,
  credentials: RouterCredentials,
  init: { readonly method?: string } = {},
): Promise<Response> {
  const dispatcher = new Agent({
    connect: {
      ca: credentials.ca,
      key: credentials.key,
      cert: credentials.cert,
      // A router's certificate names it by SPIFFE id, not by the address dialled.
      checkServerIdentity: () => undefined,
    },
  });
  try {
    const answer = await undiciFetch(url, { ...init, dispatcher });
    // Read before the dispatcher closes.
    const body = await answer.text();
    return new Response(body, { status: answer.status, headers: { 'content-type': 'application/json' } });
  } finally {
    await dispatcher.close();
  }
}
