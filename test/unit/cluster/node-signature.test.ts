/** Requests signed by a node's own key and certificate (the join's "add me" request). */
import { describe, expect, it } from 'vitest';
import {
  NODE_CERTIFICATE_HEADER,
  signNodeRequest,
  verifyNodeRequest,
  type SignedRequest,
} from '../../../core/cluster/node-signature.js';
import { testCa, testTls } from '../../support/test-pki.js';

const NOW = Date.now();
const REQUEST: SignedRequest = { method: 'POST', path: '/api/v1/cluster/members', body: '{"id":"n1"}' };

async function trust(clusterId = 'c-sig') {
  const ca = await testCa(clusterId);
  return { clusterId, intermediatePem: ca.intermediate.certPem, rootPem: ca.root.certPem };
}

function headersOf(signed: Record<string, string>) {
  return { authorization: signed.authorization ?? '', certificate: signed[NODE_CERTIFICATE_HEADER] ?? '' };
}

describe('node-signed requests', () => {
  it('name the controller whose certificate signed them, within a minute either way', async () => {
    const tls = await testTls('c-sig', 'n1');
    const signed = headersOf(signNodeRequest(tls, REQUEST, NOW));
    expect(signed.authorization).toMatch(/^Node \d+\.[A-Za-z0-9_-]+$/);
    for (const at of [NOW, NOW + 59_000, NOW - 59_000]) {
      expect(verifyNodeRequest(signed, REQUEST, await trust(), at)).toEqual({
        clusterId: 'c-sig',
        nodeId: 'n1',
      });
    }
  });

  it('refuse another body, method or path, a moved timestamp and a stale clock', async () => {
    const tls = await testTls('c-sig', 'n1');
    const signed = headersOf(signNodeRequest(tls, REQUEST, NOW));
    const t = await trust();
    expect(verifyNodeRequest(signed, { ...REQUEST, body: '{"id":"n2"}' }, t, NOW)).toBe('BAD_SIGNATURE');
    expect(verifyNodeRequest(signed, { ...REQUEST, method: 'DELETE' }, t, NOW)).toBe('BAD_SIGNATURE');
    expect(verifyNodeRequest(signed, { ...REQUEST, path: '/api/v1/cluster/members/x' }, t, NOW)).toBe(
      'BAD_SIGNATURE',
    );
    const moved = {
      ...signed,
      authorization: signed.authorization.replace(/ (\d+)\./, (_, ts) => ` ${Number(ts) + 1}.`),
    };
    expect(verifyNodeRequest(moved, REQUEST, t, NOW)).toBe('BAD_SIGNATURE');
    expect(verifyNodeRequest(signed, REQUEST, t, NOW + 60_000)).toBe('STALE');
  });

  it('refuse a certificate of another cluster, a router certificate, one signed by another key, and junk', async () => {
    const t = await trust();
    const foreign = await testTls('c-other', 'n1');
    expect(verifyNodeRequest(headersOf(signNodeRequest(foreign, REQUEST, NOW)), REQUEST, t, NOW)).toBe(
      'UNTRUSTED_CERTIFICATE',
    );
    const router = await testTls('c-sig', 'r1', { kind: 'router' });
    expect(verifyNodeRequest(headersOf(signNodeRequest(router, REQUEST, NOW)), REQUEST, t, NOW)).toBe(
      'UNTRUSTED_CERTIFICATE',
    );
    // n2's certificate with n1's signature: whoever holds only a certificate cannot sign as it.
    const n1 = await testTls('c-sig', 'n1');
    const n2 = await testTls('c-sig', 'n2');
    const mixed = {
      ...headersOf(signNodeRequest(n1, REQUEST, NOW)),
      certificate: headersOf(signNodeRequest(n2, REQUEST, NOW)).certificate,
    };
    expect(verifyNodeRequest(mixed, REQUEST, t, NOW)).toBe('BAD_SIGNATURE');
    expect(verifyNodeRequest({ authorization: 'Node 1.x', certificate: '%%' }, REQUEST, t, NOW)).toBe(
      'MALFORMED',
    );
    expect(verifyNodeRequest({ authorization: 'Bearer abc', certificate: 'AAAA' }, REQUEST, t, NOW)).toBe(
      'MALFORMED',
    );
    const notACert = { ...headersOf(signNodeRequest(n1, REQUEST, NOW)), certificate: 'AAAA' };
    expect(verifyNodeRequest(notACert, REQUEST, t, NOW)).toBe('UNTRUSTED_CERTIFICATE');
  });

  it('refuse an expired certificate', async () => {
    const old = await testTls('c-sig', 'n1', { validityDays: 1, now: new Date(NOW - 3 * 86_400_000) });
    const signed = headersOf(signNodeRequest(old, REQUEST, NOW));
    expect(verifyNodeRequest(signed, REQUEST, await trust(), NOW)).toBe('UNTRUSTED_CERTIFICATE');
  });
});
