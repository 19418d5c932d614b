/**
 * The desktop window trusts the cluster CA, and only the window: a node whose API is bound beyond
 * loopback serves HTTPS with a certificate from the cluster's own CA, which no OS store knows.
 * Electron's certificate-verify hook for the app's session accepts a chain that holds up to that
 * CA and names the host the window asked for; anything else keeps Chromium's own verdict. Nothing
 * is added to the system's or any browser's trust store.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { verifyChain } from '../core/pki/ca.js';

/** setCertificateVerifyProc's verdicts: 0 trusts the certificate, -3 keeps Chromium's result. */
export const TRUSTED = 0;
export const CHROMIUM_DECIDES = -3;

/** What the hook is given of Electron's CertificateVerifyProcProxyRequest. */
export interface CertificateVerifyRequest {
  readonly hostname: string;
  readonly certificate: PresentedCertificate;
}

/** A certificate as Electron gives it: PEM, and the one that issued it, up the chain. */
interface PresentedCertificate {
  readonly data: string;
  readonly issuerCert?: PresentedCertificate | null;
}

export function clusterCertificateVerdict(
  request: CertificateVerifyRequest,
  clusterCa: string | undefined,
): number {
  const leaf = request.certificate.data;
  // The intermediate, and the cross-certificate above it while a new root is introduced.
  const above: string[] = [];
  for (let c = request.certificate.issuerCert; c && c.data !== leaf; c = c.issuerCert) {
    if (above.includes(c.data)) break; // a self-signed root names itself as its issuer
    above.push(c.data);
  }
  if (!clusterCa || !verifyChain(leaf, above, clusterCa)) return CHROMIUM_DECIDES;
  const host = request.hostname.replace(/^\[|\]$/g, '');
  const certificate = new X509Certificate(leaf);
  const named = isIP(host) ? certificate.checkIP(host) : certificate.checkHost(host);
  return named ? TRUSTED : CHROMIUM_DECIDES;
}

/** What trustClusterCa uses of Electron's Session. */
export interface VerifyingSession {
  setCertificateVerifyProc(
    proc: (request: CertificateVerifyRequest, callback: (verdict: number) => void) => void,
  ): void;
}

/** Installs the hook; the CA is read from `caFile` at each check (a new cluster has none yet). */
export function trustClusterCa(session: VerifyingSession, caFile: string): void {
  session.setCertificateVerifyProc((request, callback) => {
    let ca: string | undefined;
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch {
      ca = undefined; // not set up yet: nothing of ours to trust
    }
    callback(clusterCertificateVerdict(request, ca));
  });
}
