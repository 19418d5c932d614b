/**
 * The answers this process's `fetch` calls receive, as undici publishes them on its diagnostics
 * channel: a test can wait until a client under test has met a given answer (a 503 while a node
 * starts, say) without standing between the client and the node.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

export interface HttpAnswerSeen {
  readonly method: string;
  /** The request's path and query, e.g. `/api/v1/auth/login`. */
  readonly path: string;
  readonly status: number;
}

interface HeadersMessage {
  readonly request: { readonly method: string; readonly path: string };
  readonly response: { readonly statusCode: number };
}

const CHANNEL = 'undici:request:headers';

/** Records every answer until `stop()`. */
export function watchHttpAnswers(): { readonly seen: readonly HttpAnswerSeen[]; stop(): void } {
  const seen: HttpAnswerSeen[] = [];
  const onMessage = (message: unknown): void => {
    const { request, response } = message as HeadersMessage;
    seen.push({ method: request.method, path: request.path, status: response.statusCode });
  };
  subscribe(CHANNEL, onMessage);
  return { seen, stop: () => unsubscribe(CHANNEL, onMessage) };
}
