/**
 * The desktop window's trust in the cluster CA, with real certificates from a test cluster CA and
 * a stand-in for Electron's Session (the binary cannot run here): a chain up to the CA that names
 * the host is trusted; another CA's, a wrong host, a missing intermediate, or no CA on disk yet
 * leave the verdict to Chromium.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CHROMIUM_DECIDES,
  clusterCertificateVerdict,
  trustClusterCa,
  TRUSTED,
  type CertificateVerifyRequest,
} from '../../../electron/cluster-trust.js';
import { certificatesOf } from '../../../core/pki/ca.js';
import { testCa, testTls } from '../../support/test-pki.js';

async function request(hostname: string, clusterId = 'desk-cluster'): Promise<CertificateVerifyRequest> {
  const [leaf, intermediate] = certificatesOf((await testTls(clusterId, 'desk-node')).cert);
  return { hostname, certificate: { data: leaf!, issuerCert: { data: intermediate! } } };
}

describe('the cluster CA in the desktop window', () => {
  it('trusts a node certificate of the cluster for a host it names, and nothing else', async () => {
    const ca = (await testCa('desk-cluster')).root.certPem;
    expect(clusterCertificateVerdict(await request('127.0.0.1'), ca)).toBe(TRUSTED);
    expect(clusterCertificateVerdict(await request('localhost'), ca)).toBe(TRUSTED);
    expect(clusterCertificateVerdict(await request('10.0.0.9'), ca)).toBe(CHROMIUM_DECIDES);
    expect(clusterCertificateVerdict(await request('example.test'), ca)).toBe(CHROMIUM_DECIDES);
    expect(clusterCertificateVerdict(await request('127.0.0.1', 'other-cluster'), ca)).toBe(CHROMIUM_DECIDES);
    const alone = await request('127.0.0.1');
    expect(clusterCertificateVerdict({ ...alone, certificate: { data: alone.certificate.data } }, ca)).toBe(
      CHROMIUM_DECIDES,
    );
    expect(clusterCertificateVerdict(alone, undefined)).toBe(CHROMIUM_DECIDES);
  });

  describe('installed on a session', () => {
    let dir = '';
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('reads the CA from the data directory at each check, so a cluster set up later is trusted', async () => {
      dir = await mkdtemp(join(tmpdir(), 'meshdesk-desk-trust-'));
      const caFile = join(dir, 'ca.pem');
      let proc: ((r: CertificateVerifyRequest, cb: (verdict: number) => void) => void) | undefined;
      trustClusterCa({ setCertificateVerifyProc: (p) => (proc = p) }, caFile);
      const verdict = (r: CertificateVerifyRequest) => new Promise<number>((resolve) => proc?.(r, resolve));
      const node = await request('127.0.0.1');
      expect(await verdict(node)).toBe(CHROMIUM_DECIDES);
      await writeFile(caFile, (await testCa('desk-cluster')).root.certPem);
      expect(await verdict(node)).toBe(TRUSTED);
    });
  });
});
