/**
 * What the desktop app does, apart from Electron: on launch, resume the node or (first run) show
 * the setup page; create or join a cluster from it; open the admin UI; follow the node's state in
 * the tray; stop the node on quit. Windows, dialogs and the tray come in as small interfaces, so
 * this is tested with a real node and a recording stand-in for the shell.
 */
import type { Logger } from 'pino';
import type { Controller } from '../core/controller.js';
import type { JoinRequest, SetupResult } from './bridge.js';
import type { StartMode } from './desktop-node.js';
import type { DesktopActions } from './ipc.js';
import type { TrayIndicator } from './tray-state.js';

/** The windows and dialogs, as main.ts makes them with Electron. */
export interface DesktopShell {
  /** Shows the first-run page (create or join a cluster). */
  openSetupWindow(): void;
  closeSetupWindow(): void;
  /** Shows (or focuses) the admin UI served by the node at `uiUrl`. */
  openAdminWindow(uiUrl: string): void;
  showError(title: string, message: string): void;
}

export interface DesktopAppOptions {
  readonly shell: DesktopShell;
  readonly indicator: TrayIndicator;
  readonly logger: Logger;
  readonly isFirstRun: () => Promise<boolean>;
  readonly startNode: (mode: StartMode) => Promise<Controller>;
}

export class DesktopApp implements DesktopActions {
  private controller: Controller | undefined;
  private starting = false;

  constructor(private readonly options: DesktopAppOptions) {}

  get node(): Controller | undefined {
    return this.controller;
  }

  /** Resumes the node and opens the admin UI, or shows the setup page on the first run. */
  async launch(): Promise<boolean> {
    if (await this.options.isFirstRun()) {
      this.options.logger.info('first run: showing the setup page');
      this.options.shell.openSetupWindow();
      return true;
    }
    const result = await this.start({ kind: 'resume' });
    if (!result.ok) {
      this.options.shell.showError('meshdesk could not start its node', result.error);
      return false;
    }
    this.options.shell.openAdminWindow(result.uiUrl);
    return true;
  }

  createCluster(): Promise<SetupResult> {
    return this.start({ kind: 'create' });
  }

  joinCluster(request: JoinRequest): Promise<SetupResult> {
    return this.start({ kind: 'join', token: request.token.trim() });
  }

  /** From the setup page, once the admin has seen the password. */
  async openAdminUi(): Promise<void> {
    if (!this.controller) return;
    this.options.shell.openAdminWindow(this.controller.url);
    this.options.shell.closeSetupWindow();
  }

  /** The tray's "Open": the admin UI when the node runs, else the setup page. */
  open(): void {
    if (this.controller) this.options.shell.openAdminWindow(this.controller.url);
    else this.options.shell.openSetupWindow();
  }

  async stop(): Promise<void> {
    const controller = this.controller;
    this.controller = undefined;
    this.options.indicator.watch(undefined);
    if (controller) {
      await controller.stop();
      this.options.logger.info('node stopped');
    }
  }

  private async start(mode: StartMode): Promise<SetupResult> {
    if (this.controller || this.starting) return { ok: false, error: 'the node is already running' };
    this.starting = true;
    try {
      const controller = await this.options.startNode(mode);
      this.controller = controller;
      this.options.indicator.watch(controller.node.replica);
      this.options.logger.info(
        {
          mode: mode.kind,
          nodeId: controller.node.id,
          clusterId: controller.node.clusterId,
          url: controller.url,
        },
        'node started',
      );
      return {
        ok: true,
        uiUrl: controller.url,
        ...(controller.generatedAdminPassword ? { adminPassword: controller.generatedAdminPassword } : {}),
      };
    } catch (err) {
      const error = (err as Error).message?.split('\n')[0] ?? String(err);
      this.options.logger.error({ err, mode: mode.kind }, 'node did not start');
      return { ok: false, error };
    } finally {
      this.starting = false;
    }
  }
}
