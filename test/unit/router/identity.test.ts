import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterCa } from '../../../core/pki/ca.js';
import {
  identityProblem,
  readRouterIdentity,
  writeRouterIdentity,
  type RouterIdentity,
} from '../../../core/router/identity.js';
import { testTls } from '../../support/test-pki.js';

let dir: string;
let identity: RouterIdentity;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshdesk-router-identity-'));
  const tls = await testTls('c1', 'r-1', { kind: 'router' });
  identity = {
    v: 1,
    clusterId: 'c1',
    router: { id: 'r-1', name: 'edge' },
    key: tls.key,
    certificate: tls.cert,
    ca: tls.ca,
    controllers: ['https://127.0.0.1:8540'],
  };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a router identity file', () => {
  it('is written owner-only and read back whole', async () => {
    const file = join(dir, 'router.json');
    await writeRouterIdentity(file, identity);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readRouterIdentity(file)).toEqual(identity);
  });

  it('is refused in one line when it is not one, or its certificate is another’s', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, 'not json');
    await expect(readRouterIdentity(file)).rejects.toThrow(`${file} is not JSON`);
    await writeFile(file, JSON.stringify({ ...identity, controllers: ['http://127.0.0.1:1'] }));
    await expect(readRouterIdentity(file)).rejects.toThrow(
      `${file} is not a router identity: controllers.0:`,
    );
    await expect(readRouterIdentity(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .* \(ENOENT\)/);

    const controller = await testTls('c1', 'r-1'); // a controller's certificate of the same id
    expect(identityProblem({ ...identity, certificate: controller.cert })).toBe(
      'its certificate does not name spiffe://c1/router/r-1',
    );
    const other = await testTls('c1', 'r-2', { kind: 'router' });
    expect(identityProblem({ ...identity, certificate: other.cert })).toBe(
      'its certificate does not name spiffe://c1/router/r-1',
    );
    const foreign = await createClusterCa('c1');
    expect(identityProblem({ ...identity, ca: foreign.root.certPem })).toBe(
      'its certificate does not chain to its cluster CA, or it has expired',
    );
    expect(identityProblem(identity, new Date(Date.now() + 400 * 24 * 3600_000))).toBe(
      'its certificate does not chain to its cluster CA, or it has expired',
    );
    await writeFile(file, JSON.stringify({ ...identity, certificate: other.cert }));
    await chmod(file, 0o600);
    await expect(readRouterIdentity(file)).rejects.toThrow(
      `${file}: its certificate does not name spiffe://c1/router/r-1; enroll the router again`,
    );
    expect(await readFile(file, 'utf8')).toContain('r-1'); // nothing rewritten
  });
});
