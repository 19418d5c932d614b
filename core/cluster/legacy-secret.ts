/**
 * Upgrading in place from the version before join tokens: its nodes kept the one cluster secret in
 * `<dataDir>/cluster-secret`, and its routers prove it. Controllers no longer use it, but routers
 * do until they have certificates, so an upgraded node proposes it into the replicated model as
 * the routers' secret (unless the model already has one) and then removes the file: after that
 * no controller keeps a shared secret on disk, and existing routers carry on unchanged.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readSecretFile } from '../files.js';
import { encodeCommand } from '../model/commands.js';
import type { ModelDatabase } from '../model/database.js';
import { readSetting, ROUTER_SECRET_SETTING } from '../model/settings.js';
import type { Replica } from '../replication/replica.js';

export const LEGACY_SECRET_FILE = 'cluster-secret';
const RETRY_MS = 2_000;

export class LegacySecretAdoption {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly dataDir: string) {}

  get file(): string {
    return join(this.dataDir, LEGACY_SECRET_FILE);
  }

  /** The old secret, or undefined on a node made by this version (or already upgraded). */
  read(): Promise<string | undefined> {
    return readSecretFile(this.file);
  }

  /**
   * In the background (the cluster may have no leader while its nodes restart one by one): moves
   * the secret into the model, then removes the file. Retries until done or stopped.
   */
  adopt(replica: Replica, db: () => ModelDatabase, logger: Logger): void {
    const attempt = async (): Promise<void> => {
      const secret = await this.read();
      if (secret === undefined || this.stopped) return;
      if (readSetting(db(), ROUTER_SECRET_SETTING) === undefined) {
        const at = new Date().toISOString();
        await replica.propose(
          encodeCommand({
            op: 'setSetting',
            key: ROUTER_SECRET_SETTING,
            value: secret,
            at,
            onlyIfAbsent: true,
          }),
        );
      }
      if (readSetting(db(), ROUTER_SECRET_SETTING) === undefined) throw new Error('not applied yet');
      await unlink(this.file);
      logger.info(
        { file: this.file },
        'upgraded: the old cluster secret is now the routers’ secret in the replicated model; its file is removed',
      );
    };
    const run = (): void => {
      attempt().catch((err: unknown) => {
        logger.debug({ err }, 'moving the old cluster secret into the model; retrying');
        if (!this.stopped) this.timer = setTimeout(run, RETRY_MS);
      });
    };
    run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
