/**
 * A router's identity file (`meshdesk router enroll … --out router.json`): its private key, its
 * certificate from the cluster CA (`spiffe://<cluster>/router/<id>`, leaf + intermediate), the
 * cluster root, and the controllers it was told to connect to. Written once, owner-only (0600),
 * durably; read back with every part checked, so a damaged or foreign file fails in one line.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeDurably } from '../files.js';
import { certificatesOf, spiffeId, spiffeIdsOf, verifyChain } from '../pki/ca.js';

const pemOf = (label: string) =>
  z.string().refine((s) => s.includes(`-----BEGIN ${label}-----`), `not a PEM ${label.toLowerCase()}`);

export const routerIdentitySchema = z.strictObject({
  v: z.literal(1),
  clusterId: z.string().min(1).max(64),
  router: z.strictObject({ id: z.string().min(1).max(64), name: z.string().min(1).max(256) }),
  /** PKCS#8 PEM. */
  key: pemOf('PRIVATE KEY'),
  /** Leaf + intermediate, PEM. */
  certificate: pemOf('CERTIFICATE'),
  /** The cluster root CA, PEM. */
  ca: pemOf('CERTIFICATE'),
  /** The controllers' cluster listeners, `https://host:port`. */
  controllers: z
    .array(z.url({ protocol: /^https$/ }))
    .min(1)
    .max(64),
});

export type RouterIdentity = z.output<typeof routerIdentitySchema>;

/**
 * Whether the certificate chains to the identity's root and names its router of its cluster;
 * the reason when it does not.
 */
export function identityProblem(identity: RouterIdentity, now: Date = new Date()): string | undefined {
  const [leaf, ...cas] = certificatesOf(identity.certificate);
  if (!leaf || cas.length === 0) return 'its certificate is not a leaf and an intermediate';
  if (!verifyChain(leaf, cas, identity.ca, now)) {
    return 'its certificate does not chain to its cluster CA, or it has expired';
  }
  const expected = spiffeId(identity.clusterId, 'router', identity.router.id);
  if (!spiffeIdsOf(leaf).includes(expected)) return `its certificate does not name ${expected}`;
  return undefined;
}

export async function writeRouterIdentity(path: string, identity: RouterIdentity): Promise<void> {
  await writeDurably(path, `${JSON.stringify(routerIdentitySchema.parse(identity), null, 2)}\n`, 0o600);
}

/** The identity in `path`; throws one line saying what is wrong with it. */
export async function readRouterIdentity(path: string): Promise<RouterIdentity> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON: is it the file 'meshdesk router enroll' wrote?`);
  }
  const parsed = routerIdentitySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path} is not a router identity: ${issue?.path.join('.') || 'file'}: ${issue?.message}`,
    );
  }
  const problem = identityProblem(parsed.data);
  if (problem) throw new Error(`${path}: ${problem}; enroll the router again`);
  return parsed.data;
}
