/**
 * Cluster requests: answers, handler errors with their code, timeouts and broken connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteError, TransportError } from '../../../core/transport/errors.js';
import { closeAll, startMesh, startNode, type TestNode } from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: TestNode[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

describe('cluster requests', () => {
  it('answers with the handler value, bytes and nesting intact, and names the caller', async () => {
    nodes = await startMesh(['n1', 'n2']);
    const [a, b] = nodes as [TestNode, TestNode];
    const callers: string[] = [];
    b.transport.handle('echo', async (from, payload) => {
      callers.push(from);
      return { got: payload, at: 'n2' };
    });
    const payload = { data: Uint8Array.of(1, 2, 3), list: [1, 'two', null, { deep: true }], n: 2 ** 40 };
    const answer = (await a.transport.request('n2', 'echo', payload, 2_000)) as {
      got: typeof payload;
      at: string;
    };
    expect(answer).toEqual({ got: payload, at: 'n2' });
    expect(answer.got.data).toBeInstanceOf(Uint8Array);
    expect(callers).toEqual(['n1']);

    // A view into a larger buffer sends only its own bytes.
    const view = new Uint8Array(Uint8Array.of(9, 9, 4, 5, 9).buffer, 2, 2);
    const echoed = (await a.transport.request('n2', 'echo', view, 2_000)) as { got: Uint8Array };
    expect(echoed.got).toEqual(Uint8Array.of(4, 5));

    // The other way round, over n2's own connection.
    a.transport.handle('ping', async () => 'pong');
    await expect(b.transport.request('n1', 'ping', null, 2_000)).resolves.toBe('pong');
  });

  it('rejects with the handler error message and code', async () => {
    nodes = await startMesh(['n1', 'n2']);
    const [a, b] = nodes as [TestNode, TestNode];
    b.transport.handle('coded', async () => {
      throw new CodedError('NOT_LEADER', 'ask n3');
    });
    b.transport.handle('plain', async () => {
      throw new Error('it broke');
    });
    b.transport.handle('string', () => Promise.reject('just a string'));
    const coded = await a.transport.request('n2', 'coded', null, 2_000).catch((e: unknown) => e);
    expect(coded).toBeInstanceOf(RemoteError);
    expect(coded).toMatchObject({ message: 'ask n3', code: 'NOT_LEADER', peer: 'n2' });
    const plain = await a.transport.request('n2', 'plain', null, 2_000).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(RemoteError);
    expect(plain).toMatchObject({ message: 'it broke', code: undefined });
    await expect(a.transport.request('n2', 'string', null, 2_000)).rejects.toMatchObject({
      message: 'just a string',
    });
    const missing = await a.transport.request('n2', 'nobody-home', null, 2_000).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TransportError);
    expect(missing).toMatchObject({ code: 'NO_HANDLER' });
  });

  it('times out when the handler does not answer in time', async () => {
    nodes = await startMesh(['n1', 'n2']);
    const [a, b] = nodes as [TestNode, TestNode];
    let release: (() => void) | undefined;
    b.transport.handle('slow', () => new Promise<string>((resolve) => (release = () => resolve('late'))));
    const started = performance.now();
    await expect(a.transport.request('n2', 'slow', null, 200)).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    release?.();
    // The late answer is ignored and the link keeps working.
    b.transport.handle('fast', async () => 'quick');
    await expect(a.transport.request('n2', 'fast', null, 2_000)).resolves.toBe('quick');
  });

  it('rejects at once for an unknown or unreachable peer, and when the connection breaks', async () => {
    nodes = await startMesh(['n1', 'n2']);
    const [a, b] = nodes as [TestNode, TestNode];
    await expect(a.transport.request('n9', 'x', null, 2_000)).rejects.toMatchObject({ code: 'UNREACHABLE' });

    b.transport.handle('hang', () => new Promise(() => undefined));
    const pending = a.transport.request('n2', 'hang', null, 10_000).catch((e: unknown) => e);
    await b.transport.close();
    expect(await pending).toMatchObject({ code: 'DISCONNECTED' });
    await waitFor(() => !a.transport.peers()[0]?.connected, 'n1 to see n2 gone');
    await expect(a.transport.request('n2', 'x', null, 2_000)).rejects.toMatchObject({ code: 'UNREACHABLE' });
  });

  it('fails pending requests when the caller closes', async () => {
    const b = await startNode('n2');
    const a = await startNode('n1');
    nodes = [a, b];
    a.transport.addPeer('n2', b.address);
    await waitFor(() => a.transport.peers()[0]?.connected === true, 'n1 connected to n2');
    b.transport.handle('hang', () => new Promise(() => undefined));
    const pending = a.transport.request('n2', 'hang', null, 10_000).catch((e: unknown) => e);
    await a.transport.close();
    expect(await pending).toBeInstanceOf(TransportError);
  });
});
