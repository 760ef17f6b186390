/** The restore companion's inputs and its pure planning, without a server. */
import { describe, expect, it } from 'vitest'
import type { ShowBackupRow } from '../../src/cluster/backup-listing.js'
import { InputError } from '../../src/base/errors.js'
import { expectInputError } from '../support/input-error.js'
import { getRestoreInputs } from '../../src/restore/inputs.js'
import { planRestore, restoredTables } from '../../src/restore/plan.js'
import * as sql from '../../src/cluster/sql/index.js'

const read = (values: Record<string, string>) => (name: string) => values[name]

function inputError(values: Record<string, string>): InputError {
  return expectInputError(() => getRestoreInputs(read(values), () => undefined))
}

function row(
  database: string | null,
  schema: string | null,
  name: string,
  type: string,
  rows: number,
  end = '2024-05-07 14:10:12.34'
): ShowBackupRow {
  return {
    database_name: database,
    parent_schema_name: schema,
    object_name: name,
    object_type: type,
    backup_type: 'full',
    start_time: null,
    end_time: end,
    size_bytes: rows * 10,
    rows
  }
}

const BACKUP: ShowBackupRow[] = [
  row(null, null, 'bank', 'database', 0),
  row('bank', null, 'public', 'schema', 0),
  row('bank', 'public', 'accounts', 'table', 100),
  row('bank', 'public', 'transfers', 'table', 7),
  row('shop', 'public', 'orders', 'table', 3),
  { ...row('bank', 'public', 'accounts', 'table', 5, '2024-05-07 15:00:00'), backup_type: 'incremental' }
]

describe('getRestoreInputs', () => {
  it('requires backup-path, naming it', () => {
    expect(inputError({ database: 'bank' }).message).toMatch(/^Input 'backup-path': is required/)
  })

  for (const path of [
    '/2024/../2024/05/07-141012.34',
    '/2024/./05/07-141012.34',
    '//2024/05/07-141012.34',
    '/2024/05//07',
    '/2024/05/07/'
  ]) {
    it(`refuses the non-canonical backup-path ${path}: the upload and RESTORE could mean different folders`, () => {
      expect(inputError({ database: 'bank', 'backup-path': path }).message).toMatch(/^Input 'backup-path': .* is not a plain folder path/)
    })
  }

  it('accepts backup-path with or without the leading slash', () => {
    for (const path of ['/2024/05/07-141012.34', '2024/05/07-141012.34', '/release-42']) {
      expect(getRestoreInputs(read({ database: 'bank', 'backup-path': path }), () => undefined).backupPath).toBe(path)
    }
  })

  it('refuses new-db-name with several databases, and source-path with a non-userfile collection', () => {
    expect(inputError({ database: 'bank, shop', 'backup-path': '/x', 'new-db-name': 'b2' }).message).toMatch(
      /^Inputs 'new-db-name' and 'database'/
    )
    expect(
      inputError({ database: 'bank', 'backup-path': '/x', 'source-path': '/tmp/b', collection: 's3://b/p?AUTH=implicit' }).message
    ).toMatch(/^Inputs 'source-path' and 'collection'/)
  })

  it('reads drop-existing as a strict boolean and shares the backup action checks', () => {
    expect(inputError({ database: 'bank', 'backup-path': '/x', 'drop-existing': 'yes' }).message).toMatch(
      /^Input 'drop-existing': "yes" is not a boolean/
    )
    expect(inputError({ 'backup-path': '/x' }).message).toMatch(/^Inputs 'database' and 'tables'/)
    const inputs = getRestoreInputs(
      read({ database: 'bank', 'backup-path': '/2024/05/07-141012.34', 'drop-existing': 'true' }),
      () => undefined
    )
    expect(inputs).toMatchObject({ backupPath: '/2024/05/07-141012.34', dropExisting: true, newDbName: undefined, sourcePath: undefined })
  })
})

describe('what drop-existing and source-path refuse', () => {
  it("refuses backup-path LATEST with source-path: the upload needs the backup's own folder", () => {
    for (const path of ['LATEST', '/LATEST', 'latest']) {
      expect(inputError({ database: 'bank', 'backup-path': path, 'source-path': '/tmp/b' }).message).toMatch(
        /^Inputs 'backup-path' and 'source-path': with source-path, backup-path must be the uploaded backup's own folder/
      )
    }
    expect(getRestoreInputs(read({ database: 'bank', 'backup-path': 'LATEST' }), () => undefined).backupPath).toBe('LATEST')
  })

  it('refuses drop-existing for tables and for more than one database', () => {
    expect(inputError({ tables: 'bank.accounts', 'backup-path': '/x', 'drop-existing': 'true' }).message).toMatch(
      /^Inputs 'drop-existing' and 'tables': drop-existing replaces whole databases/
    )
    expect(inputError({ database: 'bank, shop', 'backup-path': '/x', 'drop-existing': 'true' }).message).toMatch(
      /^Inputs 'drop-existing' and 'database': drop-existing replaces one database per step/
    )
  })

  for (const collection of [
    'userfile://bank.public.files/b',
    'userfile://files/b', // resolves in the session's database (bank, from the connection string)
    'userfile://public.files/b'
  ]) {
    it(`refuses drop-existing of the database holding the collection ${collection}`, () => {
      const inputs = getRestoreInputs(
        read({
          database: 'bank',
          'backup-path': '/x',
          'drop-existing': 'true',
          collection,
          'connection-string': 'postgresql://root@localhost:26257/bank?sslmode=disable'
        }),
        () => undefined
      )
      expect(() => planRestore(inputs, 'root')).toThrow(
        /^Inputs 'drop-existing', 'database', 'collection': drop-existing would drop bank, whose userfile tables hold the collection/
      )
    })
  }

  it('plans the replacement: a temporary name for the restore and a name aside for the old copy', () => {
    const inputs = getRestoreInputs(read({ database: 'bank', 'backup-path': '/x', 'drop-existing': 'true' }), () => undefined)
    expect(planRestore(inputs, 'root').replace).toEqual({
      name: 'bank',
      temporary: expect.stringMatching(/^bank_restoring_[0-9a-f]{8}$/),
      aside: expect.stringMatching(/^bank_replaced_[0-9a-f]{8}$/)
    })
  })
})

describe('planRestore and the RESTORE statement', () => {
  const inputs = getRestoreInputs(
    read({ database: 'bank', 'backup-path': '/2024/05/07-141012.34', 'new-db-name': 'bank restored' }),
    () => undefined
  )
  const plan = planRestore(inputs, 'root')

  it('uses the same default collection as the backup action', () => {
    expect(plan.collection).toBe('userfile://defaultdb.public.userfiles_root/bank-backup')
  })

  it('builds a detached RESTORE with new_db_name as a literal, the passphrase redacted for logs', () => {
    const options = {
      target: plan.target,
      path: plan.path,
      collection: plan.collection,
      newDbName: 'bank restored',
      intoDb: undefined,
      encryptionPassphrase: "it's secret"
    }
    expect(sql.restoreDetached(options)).toBe(
      "RESTORE DATABASE bank FROM '/2024/05/07-141012.34' IN 'userfile://defaultdb.public.userfiles_root/bank-backup' WITH detached, new_db_name = 'bank restored', encryption_passphrase = 'it''s secret'"
    )
    expect(sql.restoreDetached(options, true)).not.toContain('secret')
  })

  it('lists the restored tables under the new name, once each whatever the number of layers', () => {
    expect(restoredTables(plan, BACKUP)).toEqual([
      { name: 'bank restored.public.accounts', parts: ['bank restored', 'public', 'accounts'] },
      { name: 'bank restored.public.transfers', parts: ['bank restored', 'public', 'transfers'] }
    ])
  })

  it('selects tables by db.table, db.schema.table and db.*', () => {
    const tables = (spec: string) =>
      restoredTables(
        planRestore(
          getRestoreInputs(read({ tables: spec, 'backup-path': '/x' }), () => undefined),
          'root'
        ),
        BACKUP
      ).map(t => t.name)
    expect(tables('bank.accounts')).toEqual(['bank.public.accounts'])
    expect(tables('bank.public.transfers, shop.orders')).toEqual(['bank.public.transfers', 'shop.public.orders'])
    expect(tables('bank.*')).toEqual(['bank.public.accounts', 'bank.public.transfers'])
  })
})
