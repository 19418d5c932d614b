/**
 * Connections follow certificates. A node that renews moves the connections it dialled onto its
 * new certificate, make before break: a request in flight on the old connection is answered on
 * it. Once an intermediate CA is retired, the connections on its certificates end: a peer's
 * connection to us closes once the requests it sent are answered, and its redials are refused
 * (REVOKED_CERTIFICATE, counted); ours to it is replaced or, when its certificate is the retired
 * one, dropped; once it renews, both ways work again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createIntermediate, fingerprint } from '../../../core/pki/ca.js';
import { testCa, testTls } from '../../support/test-pki.js';
import { CLUSTER, closeAll, startNode, waitConnected, type TestNode } from '../../support/transport-nodes.js';
import { waitFor } from '../../support/wait.js';

let nodes: (TestNode | undefined)[] = [];
afterEach(async () => {
  await closeAll(nodes);
  nodes = [];
});

describe('certificates and open connections', () => {
  it('move onto a renewal without breaking a request, and end with a retired intermediate', async () => {
    const ca = await testCa(CLUSTER);
    const next = await createIntermediate(CLUSTER, ca.root);
    // The same root, a new intermediate: what a rotation gives.
    const renewedCa = { root: ca.root, intermediate: next };
    const trusted = new Set([fingerprint(ca.intermediate.certPem), fingerprint(next.certPem)]);
    const issuerTrusted = (issuer: string | undefined) => issuer !== undefined && trusted.has(issuer);
    let tlsA = await testTls(CLUSTER, 'a');
    let tlsB = await testTls(CLUSTER, 'b');
    const a = await startNode('a', { tls: () => tlsA, issuerTrusted });
    const b = await startNode('b', { tls: () => tlsB, issuerTrusted });
    nodes = [a, b];
    a.transport.addPeer('b', b.address);
    b.transport.addPeer('a', a.address);
    await waitConnected([a, b]);

    // B answers only when released: the request is in flight while A renews.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    b.transport.handle('slow', async () => {
      await released;
      return 'answered';
    });
    const pending = a.transport.request('b', 'slow', {}, 10_000);
    tlsA = await testTls(CLUSTER, 'a', { ca: renewedCa });
    a.transport.reloadCredentials();
    await waitFor(
      () => a.logs.some((l) => l.message === 'refreshed the peer connection'),
      'A moved its connection onto the renewed certificate',
    );
    release();
    await expect(pending).resolves.toBe('answered');
    expect(a.transport.stats().refusals).toEqual({});

    // The first intermediate is retired while B still holds one of its certificates, and while
    // A is answering a request B sent on that connection: the answer still reaches B.
    let answer: () => void = () => undefined;
    let asked = false;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    a.transport.handle('slow-a', async () => {
      asked = true;
      await answered;
      return 'answered by A';
    });
    const fromB = b.transport.request('a', 'slow-a', {}, 10_000);
    await waitFor(() => asked, 'A is answering B');
    trusted.delete(fingerprint(ca.intermediate.certPem));
    expect(a.transport.dropRetiredIssuers()).toEqual(['b']);
    answer();
    await expect(fromB).resolves.toBe('answered by A');
    await waitFor(() => {
      const peer = a.transport.peers()[0];
      return peer?.inbound === false && peer.connected === false;
    }, 'A holds no connection on B’s certificate, either way');
    await waitFor(
      () =>
        b.logs.some(
          (l) => l.message === 'peer refused our handshake' && l.details.detail === 'REVOKED_CERTIFICATE',
        ),
      'A refused B’s redial',
    );
    expect(a.transport.stats().refusals.REVOKED_CERTIFICATE).toBeGreaterThan(0);

    // B renews: both ways work again.
    tlsB = await testTls(CLUSTER, 'b', { ca: renewedCa });
    b.transport.reloadCredentials();
    await waitConnected([a, b]);
    await waitFor(() => a.transport.peers()[0]?.inbound === true, 'B’s connection to A is back');
    expect(await a.transport.request('b', 'slow', {}, 5_000)).toBe('answered');
  });
});
