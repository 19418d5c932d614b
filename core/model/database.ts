/**
 * The model's SQLite database (sql.js, in memory). Opening loads the WebAssembly module once per
 * process, runs pending migrations and keeps the applied Raft index in a meta table, written in
 * the same transaction as the commands it covers.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue, type Statement } from 'sql.js';
import { migrations, type Migration } from './migrations/index.js';

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Loads sql.js's WebAssembly from the installed package: nothing is fetched from the network. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  if (!sqlJs) {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('sql.js/dist/sql-wasm.wasm'));
    sqlJs = initSqlJs({ locateFile: (file: string) => join(dist, file) });
  }
  return sqlJs;
}

export class ModelDatabase {
  /** Prepared statements by SQL text: preparing costs more than running for most of ours. */
  private readonly statements = new Map<string, Statement>();

  private constructor(readonly db: Database) {}

  /** A database from `bytes` (a snapshot or a backup), or a new one; migrated to the newest schema. */
  static async open(bytes?: Uint8Array, upTo: readonly Migration[] = migrations): Promise<ModelDatabase> {
    return ModelDatabase.openWith(await loadSqlJs(), bytes, upTo);
  }

  /** The same, synchronously, once sql.js is loaded (a state machine restores inside apply). */
  static openWith(
    SQL: SqlJsStatic,
    bytes?: Uint8Array,
    upTo: readonly Migration[] = migrations,
  ): ModelDatabase {
    const model = new ModelDatabase(new SQL.Database(bytes));
    model.applyPragmas();
    model.migrate(upTo);
    return model;
  }

  /**
   * One connection owns this in-memory database, so it keeps its lock instead of taking and
   * releasing it around every statement (in sql.js that makes a lookup ~5x and an autocommit
   * insert ~30x cheaper). sql.js resets pragmas when it exports, so this runs again then.
   */
  private applyPragmas(): void {
    this.db.run('PRAGMA foreign_keys = ON');
    this.db.run('PRAGMA locking_mode = EXCLUSIVE');
    // The database file is memory already and the Raft log is its write-ahead log: a rollback
    // journal written to (and deleted from) sql.js's in-memory file system buys nothing.
    this.db.run('PRAGMA journal_mode = MEMORY');
  }

  get schemaVersion(): number {
    return Number(this.value('PRAGMA user_version') ?? 0);
  }

  private migrate(all: readonly Migration[]): void {
    this.db.run('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    for (const m of all) {
      if (m.version <= this.schemaVersion) continue;
      this.transaction(() => {
        this.db.run(m.sql);
        this.db.run(`PRAGMA user_version = ${m.version}`);
      });
    }
  }

  get appliedIndex(): number {
    return Number(this.value("SELECT value FROM meta WHERE key = 'applied_index'") ?? 0);
  }

  setAppliedIndex(index: number): void {
    this.db.run(
      "INSERT INTO meta (key, value) VALUES ('applied_index', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      [String(index)],
    );
  }

  /** Runs `fn` in one transaction: all of it or none of it. */
  transaction<T>(fn: () => T): T {
    this.db.run('BEGIN');
    try {
      const result = fn();
      this.db.run('COMMIT');
      return result;
    } catch (err) {
      this.db.run('ROLLBACK');
      throw err;
    }
  }

  /** Runs `fn` inside a savepoint of the current transaction; rolled back if it throws. */
  savepoint<T>(fn: () => T): T {
    this.db.run('SAVEPOINT cmd');
    try {
      const result = fn();
      this.db.run('RELEASE cmd');
      return result;
    } catch (err) {
      this.db.run('ROLLBACK TO cmd');
      this.db.run('RELEASE cmd');
      throw err;
    }
  }

  /** The first column of the first row, or undefined. */
  value(sql: string, params: SqlValue[] = []): SqlValue | undefined {
    const stmt = this.prepared(sql);
    try {
      stmt.bind(params);
      return stmt.step() ? stmt.get()[0] : undefined;
    } finally {
      stmt.reset();
    }
  }

  /** Whether the statement yields a row. */
  exists(sql: string, params: SqlValue[] = []): boolean {
    const stmt = this.prepared(sql);
    try {
      stmt.bind(params);
      return stmt.step();
    } finally {
      stmt.reset();
    }
  }

  /** Every row as an array of values: cheaper than `all` where the columns are known by place. */
  rows(sql: string, params: SqlValue[] = []): SqlValue[][] {
    const stmt = this.prepared(sql);
    try {
      stmt.bind(params);
      const rows: SqlValue[][] = [];
      while (stmt.step()) rows.push(stmt.get());
      return rows;
    } finally {
      stmt.reset();
    }
  }

  /** The first column of every row, as text (ids and names). */
  column(sql: string, params: SqlValue[] = []): string[] {
    return this.rows(sql, params).map((row) => String(row[0]));
  }

  /** Every row as an object keyed by column name. */
  all(sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
    const stmt = this.prepared(sql);
    try {
      return collect(stmt, params);
    } finally {
      stmt.reset();
    }
  }

  /**
   * The same on a statement prepared for this call and freed after it, for SQL whose text varies
   * with client input (a list's filter and sort), which must not grow the statement cache.
   */
  allOnce(sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
    const stmt = this.db.prepare(sql);
    try {
      return collect(stmt, params);
    } finally {
      stmt.free();
    }
  }

  run(sql: string, params: SqlValue[] = []): void {
    this.prepared(sql).run(params);
  }

  private prepared(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Rows changed by the last statement. */
  changes(): number {
    return this.db.getRowsModified();
  }

  /** The whole database as bytes. sql.js reopens the database to export it, resetting pragmas. */
  export(): Uint8Array {
    // sql.js frees every prepared statement when it exports.
    this.statements.clear();
    const bytes = this.db.export();
    this.applyPragmas();
    return bytes;
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}

function collect(stmt: Statement, params: SqlValue[]): Record<string, SqlValue>[] {
  stmt.bind(params);
  const rows: Record<string, SqlValue>[] = [];
  while (stmt.step()) rows.push(stmt.getAsObject());
  return rows;
}
