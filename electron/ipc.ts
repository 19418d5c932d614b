/**
 * The main process's side of the bridge: one handler per channel, each checking that the sender
 * is a frame we trust before it validates the arguments and acts. Takes Electron's `ipcMain` as a
 * parameter so it is tested without Electron.
 */
import { z } from 'zod';
import { MAX_JOIN_TOKEN_LENGTH, parseJoinToken } from '../core/cluster/join-token.js';
import { CHANNELS, type JoinRequest, type SetupResult } from './bridge.js';

export interface DesktopActions {
  createCluster(): Promise<SetupResult>;
  joinCluster(request: JoinRequest): Promise<SetupResult>;
  openAdminUi(): Promise<void>;
}

/** What the handlers see of Electron's IpcMainInvokeEvent. */
export interface InvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export const joinRequestSchema = z
  .object({
    token: z
      .string()
      .max(MAX_JOIN_TOKEN_LENGTH, 'the join token is too long to be one')
      .superRefine((value, context) => {
        try {
          parseJoinToken(value);
        } catch (err) {
          context.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
  })
  .strict();

export class UntrustedSenderError extends Error {
  readonly code = 'UNTRUSTED_SENDER';
}

/** Registers the handlers; returns a function that removes them. */
export function registerIpc(
  ipcMain: IpcMainLike,
  actions: DesktopActions,
  isTrusted: (frame: InvokeEventLike['senderFrame']) => boolean,
): () => void {
  const guard =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    (event: InvokeEventLike, ...args: unknown[]): Promise<R> => {
      if (!isTrusted(event.senderFrame)) {
        return Promise.reject(
          new UntrustedSenderError(`refused IPC from ${event.senderFrame?.url ?? 'no frame'}`),
        );
      }
      return run(...(args as A));
    };
  ipcMain.handle(
    CHANNELS.createCluster,
    guard(() => actions.createCluster()),
  );
  ipcMain.handle(
    CHANNELS.joinCluster,
    guard(async (input: unknown): Promise<SetupResult> => {
      const parsed = joinRequestSchema.safeParse(input);
      if (!parsed.success) {
        return { ok: false, error: parsed.error.issues.map((issue) => issue.message).join('; ') };
      }
      return actions.joinCluster(parsed.data);
    }),
  );
  ipcMain.handle(
    CHANNELS.openAdminUi,
    guard(() => actions.openAdminUi()),
  );
  return () => {
    for (const channel of Object.values(CHANNELS)) ipcMain.removeHandler(channel);
  };
}
