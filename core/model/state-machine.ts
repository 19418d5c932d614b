/**
 * The model as the replica's state machine: committed commands apply to the sql.js database in
 * one transaction per batch, together with the applied index; snapshots are the database's bytes.
 */
import type { SqlJsStatic } from 'sql.js';
import type { CommittedCommand, StateMachine } from '../replication/state-machine.js';
import { ModelApplier, type CommandResult, type PolicyIndexHooks, type SingleResult } from './apply.js';
import { decodeEnvelope } from './commands.js';
import type { Collection } from './entities.js';
import { ModelDatabase, loadSqlJs } from './database.js';
import { errorResult, ModelError } from './errors.js';
import { PolicyIndex } from './policy/index.js';
import { PKI_SETTINGS } from './pki.js';

/** Builds the policy index over a database (created again after every restore). */
export type PolicyIndexFactory = (model: ModelDatabase) => PolicyIndexHooks;

/** A command that applied (refused ones are left out), with the Raft index of its entry. */
export interface AppliedCommand {
  readonly index: number;
  readonly result: CommandResult;
}

/** What `onApplied` listeners hear after each committed batch: the API's entity events. */
export interface AppliedBatch {
  /** The applied index after the batch (no-ops included). */
  readonly appliedIndex: number;
  readonly applied: readonly AppliedCommand[];
}

export type AppliedListener = (batch: AppliedBatch) => void;

/** Whether a committed batch created, changed or deleted an entity of `collection`. */
export function touches(batch: AppliedBatch, collection: Collection): boolean {
  return anyResult(batch, (r) => 'collection' in r && r.collection === collection);
}

/** Whether the batch enrolled a router (revoking its earlier certificates) or renewed its certificate. */
export function enrollsRouter(batch: AppliedBatch): boolean {
  return anyResult(
    batch,
    (r) =>
      (r.op === 'redeemInvitation' && 'invitation' in r && r.invitation.kind === 'router') ||
      r.op === 'renewRouterCertificate',
  );
}

/** Whether the batch put a new intermediate CA in the model (a rotation, or the bootstrap's). */
export function rotatesIntermediate(batch: AppliedBatch): boolean {
  return anyResult(
    batch,
    (r) =>
      r.op === 'installIntermediate' ||
      (r.op === 'setSetting' && 'key' in r && r.key === PKI_SETTINGS.intermediateCert && r.written),
  );
}

/** Whether the batch retired earlier intermediate CAs (a rotation finished). */
export function finishesRotation(batch: AppliedBatch): boolean {
  return anyResult(batch, (r) => r.op === 'finishCaRotation' && 'retired' in r && r.retired.length > 0);
}

/** The controllers whose renewed certificates (serials) the batch recorded. */
export function renewedControllers(batch: AppliedBatch): { nodeId: string; serial: string }[] {
  return batch.applied.flatMap(({ result }) =>
    (result.op === 'batch' ? result.results : [result]).flatMap((r) =>
      r.op === 'recordControllerCertificate' && r.written ? [{ nodeId: r.nodeId, serial: r.serial }] : [],
    ),
  );
}

/** Whether the batch recorded a controller as removed from the cluster. */
export function retiresController(batch: AppliedBatch): boolean {
  return anyResult(batch, (r) => r.op === 'retireController' && 'written' in r && r.written);
}

/** Whether any command the batch applied (batches opened up) answered as `test` says. */
function anyResult(batch: AppliedBatch, test: (result: SingleResult) => boolean): boolean {
  return batch.applied.some(({ result }) => (result.op === 'batch' ? result.results : [result]).some(test));
}

export class ModelStateMachine implements StateMachine {
  private applier: ModelApplier;
  private readonly listeners = new Set<AppliedListener>();

  private constructor(
    private readonly SQL: SqlJsStatic,
    private current: ModelDatabase,
    private readonly indexFactory: PolicyIndexFactory | undefined,
  ) {
    this.applier = new ModelApplier(current, indexFactory?.(current));
  }

  static async create(
    indexFactory: PolicyIndexFactory | undefined = (model) => new PolicyIndex(model),
  ): Promise<ModelStateMachine> {
    const SQL = await loadSqlJs();
    return new ModelStateMachine(SQL, ModelDatabase.openWith(SQL), indexFactory);
  }

  /** The database, for reads. Replaced on restore: do not keep it across applies. */
  get model(): ModelDatabase {
    return this.current;
  }

  /** Calls `listener` after each committed batch; returns the function that removes it. */
  onApplied(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(commands: readonly CommittedCommand[], appliedIndex: number): unknown[] {
    const results = this.applyBatch(commands, appliedIndex);
    if (this.listeners.size > 0) this.notify(commands, results, appliedIndex);
    return results;
  }

  private notify(commands: readonly CommittedCommand[], results: unknown[], appliedIndex: number): void {
    const applied: AppliedCommand[] = [];
    results.forEach((result, i) => {
      const command = commands[i];
      const r = result as { ok?: unknown; replayed?: unknown };
      // A replayed idempotent retry changed nothing: nothing to announce.
      if (command && r.ok === true && r.replayed !== true)
        applied.push({ index: command.index, result: result as CommandResult });
    });
    for (const listener of this.listeners) {
      // A listener is an observer: its failure must not reach the replica's apply loop.
      try {
        listener({ appliedIndex, applied });
      } catch {
        // ignored on purpose
      }
    }
  }

  private applyBatch(commands: readonly CommittedCommand[], appliedIndex: number): unknown[] {
    return this.current.transaction(() => {
      const results = commands.map((c) => {
        try {
          return this.applier.applyEntry(decodeEnvelope(c.data));
        } catch (err) {
          // A refusal is a result, never an exception out of the state machine.
          return errorResult(err instanceof ModelError ? err : new ModelError('INTERNAL', String(err)));
        }
      });
      this.current.setAppliedIndex(appliedIndex);
      return results;
    });
  }

  snapshot(): Uint8Array {
    return this.current.export();
  }

  restore(data: Uint8Array): void {
    const next = ModelDatabase.openWith(this.SQL, data);
    this.current.close();
    this.current = next;
    this.applier = new ModelApplier(next, this.indexFactory?.(next));
  }
}
