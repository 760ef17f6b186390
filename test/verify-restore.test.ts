/** verify-restore's pure parts: one scratch restore per source database, and what SHOW BACKUP expects. */
import { describe, expect, it } from 'vitest'
import type { ShowBackupRow } from '../src/backup-listing.js'
import { describeMismatches, expectedTables, scratchRestores } from '../src/backup/verify-restore.js'

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
  it("takes one database's tables with their rows from a full backup", () => {
    const rows = [row('bank', 'public', 'accounts', 1000), row('bank', 'public', 'transfers', 250), row('shop', 'public', 'orders', 3)]
    rows.push({ ...row('bank', 'public', 'bank', 0), object_type: 'database', object_name: 'bank' })
    expect(expectedTables(rows, 'bank')).toEqual({
      tables: [
        { schema: 'public', table: 'accounts', rows: 1000 },
        { schema: 'public', table: 'transfers', rows: 250 }
      ],
      comparable: true
    })
  })

  it('says a chain with incremental layers has no comparable counts', () => {
    const rows = [
      row('bank', 'public', 'accounts', 1000),
      { ...row('bank', 'public', 'accounts', 5, '2024-05-07 15:00:00'), backup_type: 'incremental' }
    ]
    expect(expectedTables(rows, 'bank').comparable).toBe(false)
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
    ).toEqual(['bank.public.b: 3 rows in the backup, 2 restored'])
  })
})
