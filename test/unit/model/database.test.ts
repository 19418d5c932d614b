/** The model database's connection settings, which sql.js resets when it exports. */
import { describe, expect, it, vi } from 'vitest';
import { ModelDatabase } from '../../../core/model/database.js';

describe('ModelDatabase', () => {
  it('keeps foreign keys on, its exclusive lock and an in-memory journal, also after an export', async () => {
    const db = await ModelDatabase.open();
    const settings = () => ({
      foreignKeys: db.value('PRAGMA foreign_keys'),
      locking: db.value('PRAGMA locking_mode'),
      journal: db.value('PRAGMA journal_mode'),
    });
    const expected = { foreignKeys: 1, locking: 'exclusive', journal: 'memory' };
    expect(settings()).toEqual(expected);
    db.export();
    expect(settings()).toEqual(expected);
    db.close();
  });

  it('answers rows, a column and existence from cached statements, also after an export', async () => {
    const db = await ModelDatabase.open();
    db.run('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)');
    db.run('INSERT INTO t VALUES (?, ?), (?, ?)', ['a', 1, 'b', 2]);
    const read = () => ({
      rows: db.rows('SELECT id, n FROM t WHERE n >= ? ORDER BY id', [1]),
      column: db.column('SELECT n FROM t ORDER BY id'),
      exists: [
        db.exists('SELECT 1 FROM t WHERE id = ?', ['a']),
        db.exists('SELECT 1 FROM t WHERE id = ?', ['z']),
      ],
    });
    const expected = {
      rows: [
        ['a', 1],
        ['b', 2],
      ],
      column: ['1', '2'],
      exists: [true, false],
    };
    expect(read()).toEqual(expected);
    const prepare = vi.spyOn(db.db, 'prepare');
    expect(read()).toEqual(expected);
    expect(prepare).not.toHaveBeenCalled();
    db.export();
    expect(read()).toEqual(expected);
    expect(prepare).toHaveBeenCalledTimes(3);
    db.close();
  });
});
