/**
 * The model as the replica's state machine: committed commands apply to the sql.js database in
 * one transaction per batch, together with the applied index; snapshots are the database's bytes.
 */
import type { SqlJsStatic } from 'sql.js';
import type { CommittedCommand, StateMachine } from '../replication/state-machine.js';
import { ModelApplier, type PolicyIndexHooks } from './apply.js';
import { decodeCommand } from './commands.js';
import { ModelDatabase, loadSqlJs } from './database.js';
import { errorResult, ModelError } from './errors.js';
import { PolicyIndex } from './policy-index.js';

/** Builds the policy index over a database (created again after every restore). */
export type PolicyIndexFactory = (model: ModelDatabase) => PolicyIndexHooks;

export class ModelStateMachine implements StateMachine {
  private applier: ModelApplier;

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

  apply(commands: readonly CommittedCommand[], appliedIndex: number): unknown[] {
    return this.current.transaction(() => {
      const results = commands.map((c) => {
        try {
          return this.applier.apply(decodeCommand(c.data));
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
