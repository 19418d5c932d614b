/** Requests to an in-process controller's API (core/controller.ts), as any HTTP client sends them. */
export interface ControllerRequest {
  readonly token?: string | undefined;
  readonly body?: unknown;
}

/** `method` `/api/v1` + `path` on the controller at `url`, with a bearer token and a JSON body if given. */
export function callController(
  url: string,
  method: string,
  path: string,
  { token, body }: ControllerRequest = {},
): Promise<Response> {
  return fetch(`${url}/api/v1${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A bearer token for `username`, or a thrown error saying what the login answered. */
export async function loginToController(url: string, username: string, password: string): Promise<string> {
  const answer = await callController(url, 'POST', '/auth/login', { body: { username, password } });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${await answer.text()}`);
  return ((await answer.json()) as { token: string }).token;
}
