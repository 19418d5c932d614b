/**
 * The cluster PKI with the real parts: certificates made by @peculiar/x509, checked by
 * node:crypto's X509Certificate (OpenSSL) and used for real TLS 1.3 mutual handshakes on loopback.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  canCrossCertify,
  certificatesOf,
  chainPem,
  createClusterCa,
  createIntermediate,
  createNextRoot,
  crossCertify,
  createKeyAndCsr,
  fingerprint,
  issueCertificate,
  issuerOf,
  parseSpiffeId,
  pem,
  serialOf,
  spiffeId,
  spiffeIdsOf,
  verifyChain,
  type CertKind,
  type ClusterCa,
} from '../../../core/pki/ca.js';

const CLUSTER = 'c0ffee';
const DAY_MS = 24 * 60 * 60 * 1000;
const SKEW_MS = 5 * 60 * 1000;

function ext<T extends x509.Extension>(pemText: string, type: new (raw: ArrayBuffer) => T): T {
  const found = new x509.X509Certificate(pemText).getExtension(type);
  if (!found) throw new Error(`no ${type.name} in the certificate`);
  return found;
}

function certCount(pemText: string): number {
  return pemText.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

/** A CSR's DER with its last byte (inside the signature's BIT STRING) flipped, as PEM again. */
function tamper(csrPem: string): string {
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0x01;
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('cluster CA', () => {
  it('makes a self-signed root and an intermediate it issued, both CAs', async () => {
    const now = new Date('2031-03-01T12:00:00Z');
    const ca = await createClusterCa(CLUSTER, { now });
    const root = new X509Certificate(ca.root.certPem);
    const intermediate = new X509Certificate(ca.intermediate.certPem);

    expect(root.subject).toBe(`CN=meshdesk root CA ${CLUSTER}`);
    expect(root.ca).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(intermediate.ca).toBe(true);
    expect(intermediate.checkIssued(root)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(root.checkIssued(intermediate)).toBe(false);
    expect(intermediate.verify(intermediate.publicKey)).toBe(false);

    const rootBc = ext(ca.root.certPem, x509.BasicConstraintsExtension);
    expect([rootBc.ca, rootBc.critical]).toEqual([true, true]);
    const interBc = ext(ca.intermediate.certPem, x509.BasicConstraintsExtension);
    expect([interBc.ca, interBc.critical, interBc.pathLength]).toEqual([true, true, 0]);
    for (const certPem of [ca.root.certPem, ca.intermediate.certPem]) {
      const ku = ext(certPem, x509.KeyUsagesExtension);
      expect(ku.critical).toBe(true);
      expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    }
    expect(ext(ca.intermediate.certPem, x509.AuthorityKeyIdentifierExtension).keyId).toBe(
      ext(ca.root.certPem, x509.SubjectKeyIdentifierExtension).keyId,
    );

    // 10 and 5 years from `now`, starting 5 minutes before it.
    expect(Date.parse(root.validFrom)).toBe(now.getTime() - SKEW_MS);
    expect(Date.parse(root.validTo)).toBe(now.getTime() + 3650 * DAY_MS);
    expect(Date.parse(intermediate.validTo)).toBe(now.getTime() + 1825 * DAY_MS);

    // EC P-256 keys, PKCS#8, each the key of its certificate.
    const rootKey = new x509.PublicKey(root.publicKey.export({ type: 'spki', format: 'der' }));
    expect(rootKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(ca.root.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(ca.intermediate.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('issues leaves named by the options, not by what the CSR asked for', async () => {
    const now = new Date('2031-03-01T12:00:00Z');
    const ca = await createClusterCa(CLUSTER, { now });
    const { keyPem, csrPem } = await createKeyAndCsr('mallory');
    expect(new x509.Pkcs10CertificateRequest(csrPem).subject).toBe('CN=mallory');

    const leafPem = await issueCertificate(ca.intermediate, csrPem, {
      clusterId: CLUSTER,
      kind: 'controller',
      id: 'n1',
      hosts: ['127.0.0.1', '::1', 'node1.example', 'localhost'],
      now,
    });
    expect(certCount(leafPem)).toBe(1);
    const leaf = new X509Certificate(leafPem);
    const intermediate = new X509Certificate(ca.intermediate.certPem);

    expect(leaf.subject).toBe('CN=n1');
    expect(leaf.issuer).toBe(intermediate.subject);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(intermediate)).toBe(true);
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(leaf.verify(new X509Certificate(ca.root.certPem).publicKey)).toBe(false);
    expect(leaf.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);

    expect(leaf.subjectAltName?.split(', ')).toEqual([
      'URI:spiffe://c0ffee/controller/n1',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'DNS:node1.example',
      'DNS:localhost',
    ]);
    expect(spiffeIdsOf(leafPem)).toEqual(['spiffe://c0ffee/controller/n1']);
    // A chain is read by its first certificate.
    expect(spiffeIdsOf(chainPem(leafPem, ca.intermediate.certPem))).toEqual([
      'spiffe://c0ffee/controller/n1',
    ]);
    expect(spiffeIdsOf(ca.root.certPem)).toEqual([]);

    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // node names EKU "keyUsage"
    const ku = ext(leafPem, x509.KeyUsagesExtension);
    expect([ku.usages, ku.critical]).toEqual([x509.KeyUsageFlags.digitalSignature, true]);
    expect(ext(leafPem, x509.BasicConstraintsExtension).ca).toBe(false);
    expect(ext(leafPem, x509.AuthorityKeyIdentifierExtension).keyId).toBe(
      ext(ca.intermediate.certPem, x509.SubjectKeyIdentifierExtension).keyId,
    );

    expect(Date.parse(leaf.validFrom)).toBe(now.getTime() - SKEW_MS);
    expect(Date.parse(leaf.validTo)).toBe(now.getTime() + 90 * DAY_MS);

    expect(verifyChain(leafPem, ca.intermediate.certPem, ca.root.certPem, now)).toBe(true);
    expect(
      verifyChain(leafPem, ca.intermediate.certPem, ca.root.certPem, new Date(now.getTime() + 91 * DAY_MS)),
    ).toBe(false);
    expect(
      verifyChain(leafPem, ca.intermediate.certPem, ca.root.certPem, new Date(now.getTime() - DAY_MS)),
    ).toBe(false);
    expect(verifyChain(ca.intermediate.certPem, leafPem, ca.root.certPem, now)).toBe(false);
    expect(verifyChain(leafPem, ca.intermediate.certPem, 'not a certificate', now)).toBe(false);
  });

  it('issues with the validity asked for, and refuses a leaf of another CA in the chain', async () => {
    const ca = await createClusterCa(CLUSTER);
    const other = await createClusterCa(CLUSTER); // same name, other keys
    const { csrPem } = await createKeyAndCsr('r1');
    const now = new Date();
    const leafPem = await issueCertificate(other.intermediate, csrPem, {
      clusterId: CLUSTER,
      kind: 'router',
      id: 'r1',
      validityDays: 7,
      now,
    });
    expect(Date.parse(new X509Certificate(leafPem).validTo)).toBe(
      Math.floor(now.getTime() / 1000) * 1000 + 7 * DAY_MS,
    );
    expect(verifyChain(leafPem, other.intermediate.certPem, other.root.certPem)).toBe(true);
    expect(verifyChain(leafPem, ca.intermediate.certPem, ca.root.certPem)).toBe(false);
    expect(verifyChain(leafPem, other.intermediate.certPem, ca.root.certPem)).toBe(false);
  });

  it('refuses a CSR whose signature does not verify, or that is no CSR', async () => {
    const ca = await createClusterCa(CLUSTER);
    const { csrPem } = await createKeyAndCsr('n2');
    const options = { clusterId: CLUSTER, kind: 'controller' as const, id: 'n2' };
    await expect(issueCertificate(ca.intermediate, csrPem, options)).resolves.toContain('BEGIN CERTIFICATE');
    const tampered = tamper(csrPem);
    expect(tampered).not.toBe(csrPem);
    await expect(issueCertificate(ca.intermediate, tampered, options)).rejects.toThrow(
      "the certificate request's signature does not verify",
    );
    await expect(issueCertificate(ca.intermediate, 'hello', options)).rejects.toThrow(
      /not a PKCS#10 request/,
    );
  });

  it("refuses to sign with a key that is not the issuer certificate's", async () => {
    const ca = await createClusterCa(CLUSTER);
    const { csrPem } = await createKeyAndCsr('n3');
    const mismatched = { certPem: ca.intermediate.certPem, keyPem: ca.root.keyPem };
    await expect(
      issueCertificate(mismatched, csrPem, { clusterId: CLUSTER, kind: 'controller', id: 'n3' }),
    ).rejects.toThrow("the issuer's key does not match its certificate");
  });
});

describe('a rotated intermediate', () => {
  it('chains to the same root, so leaves of both intermediates verify; issuerOf tells them apart', async () => {
    const ca = await createClusterCa(CLUSTER);
    const next = await createIntermediate(CLUSTER, ca.root);
    const leaf = async (issuer: { certPem: string; keyPem: string }) =>
      issueCertificate(issuer, (await createKeyAndCsr('n1')).csrPem, {
        clusterId: CLUSTER,
        kind: 'controller',
        id: 'n1',
      });
    const [old, renewed] = [await leaf(ca.intermediate), await leaf(next)];
    expect(verifyChain(old, ca.intermediate.certPem, ca.root.certPem)).toBe(true);
    expect(verifyChain(renewed, next.certPem, ca.root.certPem)).toBe(true);
    expect(issuerOf(chainPem(renewed, next.certPem))).toBe(fingerprint(next.certPem));
    expect(issuerOf(chainPem(old, ca.intermediate.certPem))).not.toBe(fingerprint(next.certPem));
    expect(issuerOf(renewed)).toBeUndefined();
    // Never beyond the root's life.
    const until = (certPem: string) => Date.parse(new X509Certificate(certPem).validTo);
    expect(until(next.certPem)).toBeLessThanOrEqual(until(ca.root.certPem));
  });

  it('is refused with a root key that is not the root certificate’s', async () => {
    const [ca, other] = [await createClusterCa(CLUSTER), await createClusterCa(CLUSTER)];
    await expect(
      createIntermediate(CLUSTER, { certPem: ca.root.certPem, keyPem: other.root.keyPem }),
    ).rejects.toThrow(/root key does not match/);
  });
});

describe('checked by openssl', () => {
  it('verifies leaf ← intermediate ← root for TLS clients and servers, and refuses another root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdesk-pki-'));
    try {
      const ca = await createClusterCa(CLUSTER);
      const other = await createClusterCa(CLUSTER);
      const { csrPem } = await createKeyAndCsr('n1');
      const leaf = await issueCertificate(ca.intermediate, csrPem, {
        clusterId: CLUSTER,
        kind: 'controller',
        id: 'n1',
        hosts: ['127.0.0.1'],
      });
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const [root, inter, leafFile, otherRoot] = [
        file('root.pem', ca.root.certPem),
        file('inter.pem', ca.intermediate.certPem),
        file('leaf.pem', leaf),
        file('other.pem', other.root.certPem),
      ];
      const verify = (purpose: string, trusted: string) =>
        spawnSync(
          'openssl',
          ['verify', '-purpose', purpose, '-CAfile', trusted, '-untrusted', inter, leafFile],
          {
            encoding: 'utf8',
          },
        );
      for (const purpose of ['sslserver', 'sslclient']) {
        const ok = verify(purpose, root);
        expect(ok.stdout.trim(), ok.stderr).toBe(`${leafFile}: OK`);
      }
      const refused = verify('sslclient', otherRoot);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/unable to get local issuer certificate|certificate signature failure/);
      const text = spawnSync('openssl', ['x509', '-in', leafFile, '-noout', '-ext', 'subjectAltName'], {
        encoding: 'utf8',
      }).stdout;
      expect(text).toContain('URI:spiffe://c0ffee/controller/n1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a new root, certified by the current one', () => {
  it('chains through its cross-certificate for a party that trusts only the current root, and stops at itself for one that trusts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshdesk-pki-'));
    try {
      const ca = await createClusterCa(CLUSTER);
      expect(canCrossCertify(ca.root.certPem)).toBe(true);
      const next = await createNextRoot(CLUSTER);
      expect(new X509Certificate(next.certPem).subject).not.toBe(
        new X509Certificate(ca.root.certPem).subject,
      );
      const cross = await crossCertify(next.certPem, ca.root);
      const intermediate = await createIntermediate(CLUSTER, next);
      const { csrPem } = await createKeyAndCsr('n1');
      const leaf = await issueCertificate(intermediate, csrPem, {
        clusterId: CLUSTER,
        kind: 'controller',
        id: 'n1',
        hosts: ['127.0.0.1'],
      });
      // Our own check, as enrollment, joining and a router's identity file use it.
      expect(verifyChain(leaf, [intermediate.certPem, cross], ca.root.certPem)).toBe(true);
      expect(verifyChain(leaf, [intermediate.certPem, cross], next.certPem)).toBe(true);
      expect(verifyChain(leaf, chainPem(intermediate.certPem, cross), ca.root.certPem)).toBe(true);
      expect(verifyChain(leaf, [intermediate.certPem], ca.root.certPem)).toBe(false); // no link
      // A leaf of the current root's intermediate does not verify under the new root alone.
      const { csrPem: older } = await createKeyAndCsr('n2');
      const oldLeaf = await issueCertificate(ca.intermediate, older, {
        clusterId: CLUSTER,
        kind: 'controller',
        id: 'n2',
      });
      expect(verifyChain(oldLeaf, [ca.intermediate.certPem], next.certPem)).toBe(false);
      // The cross-certificate cannot stand in for a root.
      expect(verifyChain(leaf, [intermediate.certPem], cross)).toBe(false);

      // OpenSSL agrees, both ways, for TLS clients and servers.
      const file = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const untrusted = file('untrusted.pem', chainPem(intermediate.certPem, cross));
      const leafFile = file('leaf.pem', leaf);
      for (const [trusted, name] of [
        [ca.root.certPem, 'current'],
        [next.certPem, 'next'],
      ] as const) {
        for (const purpose of ['sslserver', 'sslclient']) {
          const ok = spawnSync(
            'openssl',
            [
              'verify',
              '-purpose',
              purpose,
              '-CAfile',
              file(`${name}.pem`, trusted),
              '-untrusted',
              untrusted,
              leafFile,
            ],
            { encoding: 'utf8' },
          );
          expect(ok.stdout.trim(), `${name} ${purpose}: ${ok.stderr}`).toBe(`${leafFile}: OK`);
        }
      }
      const old = spawnSync(
        'openssl',
        [
          'verify',
          '-CAfile',
          file('n.pem', next.certPem),
          '-untrusted',
          file('oi.pem', ca.intermediate.certPem),
          file('old.pem', oldLeaf),
        ],
        { encoding: 'utf8' },
      );
      expect(old.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused by a root made before roots could certify their successor', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const legacy = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=legacy root',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.BasicConstraintsExtension(true, 1, true)],
    });
    expect(canCrossCertify(legacy.toString('pem'))).toBe(false);
  });
});

describe('SPIFFE ids', () => {
  it('builds and parses spiffe://<cluster>/<kind>/<id>', () => {
    for (const kind of ['controller', 'router', 'identity'] satisfies CertKind[]) {
      expect(parseSpiffeId(spiffeId(CLUSTER, kind, 'x-1'))).toEqual({ clusterId: CLUSTER, kind, id: 'x-1' });
    }
    expect(spiffeId('c1', 'router', 'r9')).toBe('spiffe://c1/router/r9');
    for (const bad of [
      'spiffe://c1/admin/x',
      'spiffe://c1/controller',
      'spiffe://c1/controller/',
      'spiffe://c1/controller/a/b',
      'spiffe:///controller/a',
      'https://c1/controller/a',
      '',
    ]) {
      expect(parseSpiffeId(bad), bad).toBeUndefined();
    }
  });
});

describe('fingerprint, serial and PEM helpers', () => {
  it('fingerprints the DER with SHA-256 as colon-separated uppercase hex', async () => {
    const ca = await createClusterCa(CLUSTER);
    const der = new X509Certificate(ca.root.certPem).raw;
    const expected = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':');
    expect(fingerprint(ca.root.certPem)).toBe(expected);
    expect(fingerprint(ca.root.certPem)).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(fingerprint(ca.intermediate.certPem)).not.toBe(fingerprint(ca.root.certPem));
  });

  it('reads 16-byte positive random serials as uppercase hex', async () => {
    const ca = await createClusterCa(CLUSTER);
    const { csrPem } = await createKeyAndCsr('n4');
    const leaves = await Promise.all(
      [1, 2, 3].map(() =>
        issueCertificate(ca.intermediate, csrPem, { clusterId: CLUSTER, kind: 'identity', id: 'u' }),
      ),
    );
    const serials = [ca.root.certPem, ca.intermediate.certPem, ...leaves].map(serialOf);
    for (const [i, serial] of serials.entries()) {
      expect(serial).toMatch(/^[0-7][0-9A-F]{31}$/);
      const certPem = [ca.root.certPem, ca.intermediate.certPem, ...leaves][i] ?? '';
      expect(serial).toBe(new x509.X509Certificate(certPem).serialNumber.toUpperCase());
    }
    expect(new Set(serials).size).toBe(serials.length);
  });

  it('ends every PEM with a newline and concatenates chains', async () => {
    const ca = await createClusterCa(CLUSTER);
    expect(pem('abc')).toBe('abc\n');
    expect(pem('abc\n')).toBe('abc\n');
    for (const text of [ca.root.certPem, ca.root.keyPem, ca.intermediate.certPem, ca.intermediate.keyPem]) {
      expect(text.endsWith('-----\n')).toBe(true);
    }
    const chain = chainPem(ca.intermediate.certPem.trimEnd(), ca.root.certPem);
    expect(chain).toBe(`${ca.intermediate.certPem}${ca.root.certPem}`);
    expect(certCount(chain)).toBe(2);
    expect(certificatesOf(chain)).toEqual([ca.intermediate.certPem, ca.root.certPem]);
    expect(certificatesOf('no certificate here')).toEqual([]);
  });
});

interface Party {
  readonly key: string;
  /** Leaf and intermediate. */
  readonly cert: string;
  /** The root it trusts. */
  readonly ca: string;
}

async function party(
  issuedBy: ClusterCa,
  kind: CertKind,
  id: string,
  trusts: ClusterCa = issuedBy,
): Promise<Party> {
  const { keyPem, csrPem } = await createKeyAndCsr(id);
  const leaf = await issueCertificate(issuedBy.intermediate, csrPem, {
    clusterId: CLUSTER,
    kind,
    id,
    hosts: ['127.0.0.1', 'localhost'],
  });
  return { key: keyPem, cert: chainPem(leaf, issuedBy.intermediate.certPem), ca: trusts.root.certPem };
}

interface Handshake {
  /** The client's SANs as the server saw them, once it accepted the client. */
  readonly serverSaw?: string;
  readonly serverError?: Error;
  /** The server's SANs as the client saw them. */
  readonly clientSaw?: string;
  readonly clientError?: Error;
  /** What the server sent after accepting the client ("ok"), as the client read it. */
  readonly received: string;
}

/** One TLS 1.3 mutual handshake on loopback; resolves once both ends are done with it. */
async function handshake(server: Party, client: Party): Promise<Handshake> {
  const sockets = new Set<TLSSocket>();
  const tlsServer = createServer({
    key: server.key,
    cert: server.cert,
    ca: server.ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
  });
  const serverSide = new Promise<{ serverSaw?: string; serverError?: Error }>((resolve) => {
    tlsServer.on('secureConnection', (socket) => {
      sockets.add(socket);
      const serverSaw = socket.getPeerCertificate().subjectaltname;
      socket.on('error', () => undefined);
      socket.end('ok', () => resolve({ serverSaw }));
    });
    tlsServer.on('tlsClientError', (serverError) => resolve({ serverError }));
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  const { port } = tlsServer.address() as AddressInfo;

  let socket: TLSSocket | undefined;
  try {
    const clientSide = new Promise<{ clientSaw?: string; clientError?: Error; received: string }>(
      (resolve) => {
        let clientSaw: string | undefined;
        let clientError: Error | undefined;
        let received = '';
        socket = connect({
          host: '127.0.0.1',
          port,
          key: client.key,
          cert: client.cert,
          ca: client.ca,
          minVersion: 'TLSv1.3',
        });
        socket.setEncoding('utf8');
        socket.on('secureConnect', () => (clientSaw = socket?.getPeerCertificate().subjectaltname));
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', (err) => (clientError = err));
        socket.on('close', () => resolve({ clientSaw, clientError, received }));
      },
    );
    const [serverResult, clientResult] = await Promise.all([serverSide, clientSide]);
    return { ...serverResult, ...clientResult };
  } finally {
    socket?.destroy();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
}

describe('mutual TLS 1.3 with the issued certificates', () => {
  it('accepts a client of the same CA, and each end sees the other SPIFFE id', async () => {
    const ca = await createClusterCa(CLUSTER);
    const result = await handshake(await party(ca, 'controller', 'n1'), await party(ca, 'router', 'r1'));
    expect(result.serverError).toBeUndefined();
    expect(result.clientError).toBeUndefined();
    expect(result.received).toBe('ok');
    expect(result.serverSaw).toContain('URI:spiffe://c0ffee/router/r1');
    expect(result.clientSaw).toContain('URI:spiffe://c0ffee/controller/n1');
  });

  it('refuses a client whose certificate another CA issued', async () => {
    const ca = await createClusterCa(CLUSTER);
    const foreign = await createClusterCa(CLUSTER); // same cluster id, other keys
    const result = await handshake(
      await party(ca, 'controller', 'n1'),
      await party(foreign, 'controller', 'n2', ca),
    );
    expect(result.serverError).toBeInstanceOf(Error);
    expect(result.serverSaw).toBeUndefined();
    expect(result.received).toBe('');
  });

  it('refuses, as a client, a server whose certificate another CA issued', async () => {
    const ca = await createClusterCa(CLUSTER);
    const foreign = await createClusterCa(CLUSTER);
    const result = await handshake(
      await party(foreign, 'controller', 'n9', ca),
      await party(ca, 'controller', 'n1'),
    );
    expect(result.clientError).toBeInstanceOf(Error);
    expect((result.clientError as NodeJS.ErrnoException).code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(result.clientSaw).toBeUndefined();
    expect(result.serverError).toBeInstanceOf(Error); // the client's alert
    expect(result.serverSaw).toBeUndefined();
    expect(result.received).toBe('');
  });
});
