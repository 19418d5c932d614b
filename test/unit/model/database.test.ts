/** The model database's connection settings, which sql.js resets when it exports. */
import { describe, expect, it } from 'vitest';
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
});
