/** verify-restore's pure parts: one scratch restore per source database, what SHOW BACKUP lists, and what a count is compared with. */
import { describe, expect, it } from 'vitest'
import type { ShowBackupRow } from '../../src/cluster/backup-listing.js'
import { judge, referenceTime } from '../../src/backup/row-reference.js'
import { describeMismatches, expectedTables, scratchRestores } from '../../src/backup/verify-restore.js'

function row(database: string, schema: string, table: string, rows: number, end = '2024-05-07 14:10:12.34'): ShowBackupRow {
  return {
    database_name: database,
    parent_schema_name: schema,
    object_name: table,
    object_type: 'table',
    backup_type: 'full',
    start_time: null,
    end_time: end,
    size_bytes: rows * 10,
    rows
  }
}

describe('scratchRestores', () => {
  it('restores each database of a database backup under <db>_verify_<job id>', () => {
    expect(scratchRestores({ kind: 'databases', databases: ['bank', 'shop'] }, '42')).toEqual([
      { source: 'bank', scratch: 'bank_verify_42', target: { kind: 'databases', databases: ['bank'] } },
      { source: 'shop', scratch: 'shop_verify_42', target: { kind: 'databases', databases: ['shop'] } }
    ])
  })

  it('groups a table backup by source database, so into_db never mixes two databases', () => {
    const restores = scratchRestores(
      { kind: 'tables', tables: [{ parts: ['bank', 'accounts'] }, { parts: ['shop', '*'] }, { parts: ['bank', 'public', 'transfers'] }] },
      '7'
    )
    expect(restores.map(r => [r.scratch, r.target])).toEqual([
      ['bank_verify_7', { kind: 'tables', tables: [{ parts: ['bank', 'accounts'] }, { parts: ['bank', 'public', 'transfers'] }] }],
      ['shop_verify_7', { kind: 'tables', tables: [{ parts: ['shop', '*'] }] }]
    ])
  })
})

describe('expectedTables', () => {
  it("takes one database's tables with each layer's rows", () => {
    const rows = [row('bank', 'public', 'accounts', 1000), row('bank', 'public', 'transfers', 250), row('shop', 'public', 'orders', 3)]
    rows.push({ ...row('bank', 'public', 'bank', 0), object_type: 'database', object_name: 'bank' })
    rows.push({ ...row('bank', 'public', 'accounts', 5, '2024-05-07 15:00:00'), backup_type: 'incremental' })
    expect(expectedTables(rows, 'bank')).toEqual([
      { schema: 'public', table: 'accounts', layerRows: [1000, 5] },
      { schema: 'public', table: 'transfers', layerRows: [250] }
    ])
  })
})

describe('describeMismatches', () => {
  it('lists only the tables whose counts differ', () => {
    expect(
      describeMismatches([
        { table: 'bank.public.a', restoredAs: 'x.public.a', expected: 3, actual: 3 },
        { table: 'bank.public.b', restoredAs: 'x.public.b', expected: 3, actual: 2 },
        { table: 'bank.public.c', restoredAs: 'x.public.c', expected: undefined, actual: 9 }
      ])
    ).toEqual(["bank.public.b: 3 rows in the source at the backup's time, 2 restored"])
  })
})

describe('referenceTime', () => {
  const rows = [row('bank', 'public', 'a', 1, '2024-05-07 14:10:12.345678+00'), row('bank', 'public', 'a', 1, '2024-05-07 15:00:00.5+00')]

  it("is the BACKUP statement's own time when it was a decimal or a timestamp", () => {
    expect(referenceTime({ kind: 'hlc', value: '1715091012340000000.0000000005' }, rows)).toEqual({
      exact: '1715091012340000000.0000000005'
    })
    expect(referenceTime({ kind: 'timestamp', value: '2024-05-07 14:10:12.34' }, rows)).toEqual({ exact: '2024-05-07 14:10:12.34' })
  })

  it("is a microsecond either side of the newest layer's end_time otherwise", () => {
    expect(referenceTime({ kind: 'interval', value: '-10s' }, rows)).toEqual({
      around: ['1715094000499999000.0000000000', '1715094000500001000.0000000000']
    })
    expect(referenceTime(undefined, [row('bank', 'public', 'a', 1, '2024-05-07 14:10:12.345678')])).toEqual({
      around: ['1715091012345677000.0000000000', '1715091012345679000.0000000000']
    })
  })
})

describe('judge', () => {
  it('matches the source at either read of an inexact time', () => {
    expect(judge(10, { counts: [9, 10] }, [12], true)).toEqual({ expected: 10, note: undefined })
    expect(judge(8, { counts: [9, 10] }, [12], true)).toEqual({ expected: 9, note: undefined })
  })

  it('does not compare a table whose rows the backup excluded (exclude_data_from_backup)', () => {
    expect(judge(0, { counts: [40] }, [0], true)).toEqual({
      expected: undefined,
      note: 'the backup holds no rows of it (exclude_data_from_backup)'
    })
  })

  it("never fails on SHOW BACKUP's rows when the source cannot be read: they are only shown beside the note", () => {
    const gone = { unreadable: 'past the GC threshold' }
    expect(judge(7, gone, [7], true)).toEqual({
      expected: undefined,
      note: 'not compared: past the GC threshold (SHOW BACKUP lists 7 rows for it, as many as were restored)'
    })
    expect(judge(6, gone, [7], true)).toEqual({
      expected: undefined,
      note: "not compared: past the GC threshold (SHOW BACKUP lists 7 rows for it, but it credits each backup file's rows to one table, so that is no proof of a loss)"
    })
    expect(judge(7, gone, [9], false)).toEqual({ expected: undefined, note: 'not compared: past the GC threshold' })
    expect(judge(7, gone, [7, 2], true)).toEqual({ expected: undefined, note: 'not compared: past the GC threshold' })
  })
})
