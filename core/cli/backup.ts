/** `meshdesk backup` and `meshdesk restore`. */
import { existsSync, readdirSync } from 'node:fs';
import { backupFromDataDir, backupTargetProblem, seedFromBackup, writeBackup } from '../backup.js';
import { CliClient } from './api-client.js';
import { apiTarget, TRUST_OPTIONS, TRUST_USAGE } from './api-target.js';
import { parse, text, UsageError } from './args.js';
import { credentials, CREDENTIAL_OPTIONS, CREDENTIAL_USAGE } from './credentials.js';
import { parseStart, runStart, serveUntilSignalled, START_USAGE } from './start.js';

export const BACKUP_USAGE = `usage: meshdesk backup --out F (--api URL | --data-dir D) [options]

Writes a consistent copy of the model (a SQLite database file, mode 0600: it holds password
hashes and the cluster CA's key), whole or not at all.

  --out F         the file to write (its folder must exist)
  --force         overwrite F if it exists
  --api URL       from a running node, through its API (credentials as for 'cluster')
  --data-dir D    from a stopped node's data directory
${CREDENTIAL_USAGE}
${TRUST_USAGE}`;

export const RESTORE_USAGE = `usage: meshdesk restore --from F --data-dir D [start options]

Seeds a new one-node cluster from a backup file and runs it, like 'meshdesk start --bootstrap'
but with the backup's model (its admins, identities, policies…). The data directory must be
empty. Other nodes join it with 'meshdesk start --join'. Afterwards run it with 'meshdesk start'.

${START_USAGE.split('\n').slice(4).join('\n')}`;

const BACKUP_OPTIONS = {
  out: { type: 'string' },
  force: { type: 'boolean' },
  api: { type: 'string' },
  ...TRUST_OPTIONS,
  'data-dir': { type: 'string' },
  ...CREDENTIAL_OPTIONS,
} as const;

export async function backup(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const { values, help } = parse(argv, BACKUP_OPTIONS);
  if (help) {
    out(BACKUP_USAGE);
    return 0;
  }
  const file = text(values, 'out');
  if (!file) throw new UsageError('backup needs --out F');
  const api = text(values, 'api');
  const dataDir = text(values, 'data-dir');
  if ((api === undefined) === (dataDir === undefined))
    throw new UsageError('backup needs one of --api URL or --data-dir D');
  const overwrite = values.force === true;
  // Before anything is fetched or read: a wrong --out costs nothing and leaves nothing.
  const refused = backupTargetProblem(file, overwrite);
  if (refused) throw new UsageError(`--out: ${refused}`);
  if (api !== undefined) {
    const target = await apiTarget(values, env);
    const client = new CliClient(target.url, await credentials(values, env), { fetch: target.fetch });
    const response = await client.raw('/backup');
    const bytes = new Uint8Array(await response.arrayBuffer());
    await writeBackup(file, bytes, overwrite);
    out(
      `backup of index ${response.headers.get('x-raft-index') ?? '?'} written to ${file} (${bytes.length} bytes)`,
    );
    return 0;
  }
  if (!existsSync(dataDir as string)) throw new UsageError(`--data-dir ${dataDir} does not exist`);
  const { bytes, index } = await backupFromDataDir(dataDir as string);
  await writeBackup(file, bytes, overwrite);
  out(`backup of index ${index} written to ${file} (${bytes.length} bytes)`);
  return 0;
}

export async function restore(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const fromAt = argv.findIndex((a) => a === '--from' || a.startsWith('--from='));
  if (argv.includes('--help') || argv.includes('-h')) {
    out(RESTORE_USAGE);
    return 0;
  }
  if (fromAt < 0) throw new UsageError('restore needs --from F');
  const flag = argv[fromAt] as string;
  const from = flag.includes('=') ? flag.slice('--from='.length) : argv[fromAt + 1];
  if (!from || from.startsWith('--')) throw new UsageError('--from needs the backup file');
  const rest = [...argv.slice(0, fromAt), ...argv.slice(fromAt + (flag.includes('=') ? 1 : 2))];
  if (rest.includes('--bootstrap') || rest.some((a) => a.startsWith('--join'))) {
    throw new UsageError('restore starts a new cluster: --bootstrap and --join do not apply');
  }
  const args = parseStart(rest, env);
  if (args === 'help') return 0;
  if (!rest.some((a) => a === '--data-dir' || a.startsWith('--data-dir='))) {
    throw new UsageError('restore needs --data-dir D (an empty directory for the new cluster)');
  }
  if (existsSync(args.dataDir) && readdirSync(args.dataDir).length > 0) {
    throw new UsageError(
      `--data-dir ${args.dataDir} is not empty; restore seeds a new cluster in an empty one`,
    );
  }
  // A one-node cluster's first membership is entry 1; the seed stands in for it.
  const seed = await seedFromBackup(from, 1);
  const controller = await runStart({ ...args, bootstrap: true }, env, seed);
  out(`restored ${from} into a new cluster ${controller.node.clusterId}`);
  await serveUntilSignalled(controller);
  return 0;
}
