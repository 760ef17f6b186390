/** The emulator's BACKUP, SHOW BACKUPS and SHOW BACKUP, and the path formats each version lists, through the real `pg` driver. */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { describe, expect, it } from 'vitest'
import { USERFILE_CHUNK_BYTES, type ProfileName } from './index.js'
import { openStorage } from './storage.js'
import {
  COLLECTION,
  BASE_MS,
  TEN_SECONDS_AGO_FOLDER,
  emulator,
  connect,
  failure,
  pollJob,
  detachedBackup,
  paths
} from '../support/emulator-client.js'

describe('BACKUP and SHOW BACKUPS', () => {
  it('returns the 6-column result header when not detached and lists the new folder afterwards', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    expect(await paths(client)).toEqual([])
    const result = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    expect(result.fields.map(f => [f.name, f.dataTypeID])).toEqual([
      ['job_id', 20],
      ['status', 25],
      ['fraction_completed', 701],
      ['rows', 20],
      ['index_entries', 20],
      ['bytes', 20]
    ])
    expect(result.rows).toEqual([expect.objectContaining({ status: 'succeeded', fraction_completed: '1', rows: '1010', bytes: '66436' })])
    expect(BigInt(result.rows[0].job_id)).toBeGreaterThan(2n ** 53n)
    expect(await paths(client)).toEqual([TEN_SECONDS_AGO_FOLDER])
  })

  it('returns the 4-column header from v25.1', async () => {
    const client = await connect(await emulator({ profile: 'v25.2' }))
    const result = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
    expect(result.fields.map(f => f.name)).toEqual(['job_id', 'status', 'fraction_completed', 'rows'])
  })

  it('returns the job id at once with detached, shows progress, and lists the backup only when it succeeded', async () => {
    const emu = await emulator({ jobDurationMs: 200 })
    const client = await connect(emu)
    const { rows, fields } = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`)
    expect(fields.map(f => [f.name, f.dataTypeID])).toEqual([['job_id', 20]])
    const jobId = rows[0].job_id as string
    expect(jobId).toMatch(/^\d{18}$/)
    expect(await paths(client)).toEqual([])
    const history = await pollJob(client, jobId)
    const running = history.filter(r => r.status === 'running')
    expect(running.length).toBeGreaterThan(1)
    expect(running.some(r => Number(r.fraction_completed) > 0 && Number(r.fraction_completed) < 1)).toBe(true)
    const last = history[history.length - 1]
    expect(last).toEqual({
      status: 'succeeded',
      fraction_completed: '1',
      error: '',
      description: `BACKUP DATABASE bank INTO '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH OPTIONS (detached)`
    })
    expect(await paths(client)).toEqual([TEN_SECONDS_AGO_FOLDER])
  })

  it('accepts every AS OF SYSTEM TIME form and names the folder from the end time, truncated', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    const cases: [string, string][] = [
      ["'-1m30s'", '/2024/05/07-140852.34'],
      ["'-2h'", '/2024/05/07-121022.34'],
      ["'-500ms'", '/2024/05/07-141021.84'],
      ["'2024-05-07 14:00:00'", '/2024/05/07-140000.00'],
      ["'2024-05-07 13:59:59.999999'", '/2024/05/07-135959.99'],
      ["'1715090000000000000.0000000000'", '/2024/05/07-135320.00'],
      ['follower_read_timestamp()', '/2024/05/07-141017.54']
    ]
    for (const [clause, folder] of cases) {
      const { jobId, history } = await detachedBackup(
        client,
        `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME ${clause} WITH detached`
      )
      expect(history.at(-1)?.status, clause).toBe('succeeded')
      expect(history.at(-1)?.description, clause).toContain(`INTO '${folder}' IN`)
      expect(jobId).not.toBe('')
    }
    // Folders differ only by the later part of the clock; check the listing holds every one, sorted.
    const listed = await paths(client)
    expect(listed).toEqual([...cases.map(c => c[1])].sort())
  })

  it('rejects future, unparsable and too old AS OF SYSTEM TIME values with CockroachDB errors', async () => {
    const client = await connect(await emulator())
    const future = await failure(client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '2030-01-01'`))
    expect(future.code).toBe('XXUUU')
    expect(future.message).toMatch(
      /^AS OF SYSTEM TIME: cannot specify timestamp in the future \(1893456000\.000000000,0 > 1715091022\.\d{9},0\)$/
    )
    const garbage = await failure(client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME 'yesterday-ish'`))
    expect(garbage.message).toBe('AS OF SYSTEM TIME: value is neither timestamp, decimal, nor interval')
    const old = await failure(client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-5h'`))
    expect(old.code).toBe('XXUUU')
    expect(old.message).toMatch(
      /^failed to resolve targets specified in the BACKUP stmt: batch timestamp \d+\.\d{9},0 must be after replica GC threshold \d+\.\d{9},0$/
    )
    // v22.2 keeps 25 h of history, so 5 h ago is fine there.
    const older = await connect(await emulator({ profile: 'v22.2' }))
    expect((await older.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-5h'`)).rows[0].status).toBe('succeeded')
  })

  it('reports a missing database or table as a target-resolution error (XXUUU)', async () => {
    const client = await connect(await emulator())
    const db = await failure(client.query(`BACKUP DATABASE nope INTO '${COLLECTION}'`))
    expect([db.code, db.message]).toEqual([
      'XXUUU',
      'failed to resolve targets specified in the BACKUP stmt: database "nope" does not exist, or invalid RESTORE timestamp: supplied backups do not cover requested time'
    ])
    const table = await failure(client.query(`BACKUP TABLE bank.public.nope INTO '${COLLECTION}'`))
    expect(table.message).toMatch(/^failed to resolve targets specified in the BACKUP stmt: table "bank\.public\.nope" does not exist/)
  })

  it('v26.2 (PR #157790) drops the RESTORE-timestamp suffix and keeps the catalog code (3D000) for a database', async () => {
    const client = await connect(await emulator({ profile: 'v26.2' }))
    const db = await failure(client.query(`BACKUP DATABASE nope INTO '${COLLECTION}'`))
    expect([db.code, db.message]).toEqual([
      '3D000',
      'failed to resolve targets specified in the BACKUP stmt: database "nope" does not exist'
    ])
    const table = await failure(client.query(`BACKUP TABLE bank.public.nope INTO '${COLLECTION}'`))
    expect([table.code, table.message]).toEqual([
      'XXUUU',
      'failed to resolve targets specified in the BACKUP stmt: table "bank.public.nope" does not exist'
    ])
  })

  it('backs up tables by every name form and prints them in the description as written', async () => {
    const emu = await emulator()
    const client = await connect(emu, { connectionString: emu.connectionString('root', undefined, 'bank') })
    const { history } = await detachedBackup(
      client,
      `BACKUP TABLE accounts, public.transfers, "bank".public.* INTO '${COLLECTION}' WITH detached`
    )
    expect(history.at(-1)?.description).toMatch(/^BACKUP TABLE accounts, public\.transfers, bank\.public\.\* INTO '\/2024\//)
    const [path] = await paths(client)
    const { rows } = await client.query(`SHOW BACKUP '${path}' IN '${COLLECTION}'`)
    expect(rows.filter(r => r.object_type === 'table').map(r => [r.object_name, r.rows, r.size_bytes])).toEqual([
      ['accounts', '1000', '65536'],
      ['transfers', '10', '900'],
      ['accounts', '1000', '65536'],
      ['transfers', '10', '900']
    ])
  })

  it('reads quoted identifiers and e-strings, and prints options the way each version does', async () => {
    const emu = await emulator({ profile: 'v22.2' })
    emu.createDatabase('we"ird', { t: { rows: 1, bytes: 10 } })
    const client = await connect(emu)
    const quoted = await detachedBackup(
      client,
      `BACKUP DATABASE "we""ird" INTO e'userfile://defaultdb.public.userfiles_root/bank\\x2dbackup' AS OF SYSTEM TIME '-10s' WITH detached, revision_history`
    )
    expect(quoted.history.at(-1)?.description).toBe(
      `BACKUP DATABASE "we""ird" INTO '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH OPTIONS (revision_history = true, detached)`
    )
    expect(await paths(client)).toEqual([TEN_SECONDS_AGO_FOLDER])
    const old = await connect(await emulator({ profile: 'v21.2' }))
    await old.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const latest = await detachedBackup(old, `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH revision_history = true, detached`)
    // v21.x resolves LATEST before writing the description and prints the bare flag.
    expect(latest.history.at(-1)?.description).toBe(
      `BACKUP DATABASE bank INTO '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' WITH revision_history, detached`
    )
    // v22.1 keeps LATEST and the bare `WITH` (the `WITH OPTIONS (…)` form is from PR #107723/#109598).
    const v22_1 = await connect(await emulator({ profile: 'v22.1' }))
    await v22_1.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const bare = await detachedBackup(v22_1, `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH revision_history, detached`)
    expect(bare.history.at(-1)?.description).toBe(`BACKUP DATABASE bank INTO 'LATEST' IN '${COLLECTION}' WITH revision_history, detached`)
  })

  it('refuses a BACKUP that waits for its job inside BEGIN … COMMIT, in each version’s words; a detached one runs', async () => {
    for (const [profile, words] of [
      ['v21.2', 'a transaction'],
      ['v22.1', 'a multi-statement transaction']
    ] as const) {
      const client = await connect(await emulator({ profile }))
      await client.query('BEGIN')
      const refused = await failure(client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`))
      expect([refused.code, refused.message], profile).toEqual(['XXUUU', `BACKUP cannot be used inside ${words} without DETACHED option`])
      await client.query('ROLLBACK')
      await client.query('BEGIN')
      expect((await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)).rows, profile).toHaveLength(1)
      await client.query('COMMIT')
    }
  })

  it('accepts a cluster backup and marks it is_full_cluster', async () => {
    const client = await connect(await emulator())
    await client.query(`BACKUP INTO '${COLLECTION}'`)
    const { rows } = await client.query(`SHOW BACKUP LATEST IN '${COLLECTION}'`)
    expect(new Set(rows.map(r => r.is_full_cluster))).toEqual(new Set(['t']))
    expect(rows.filter(r => r.object_type === 'database').map(r => r.object_name)).toEqual(
      expect.arrayContaining(['bank', 'system', 'defaultdb'])
    )
  })

  it('appends an incremental with INTO LATEST, which SHOW BACKUPS does not list but SHOW BACKUP shows as a layer', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    emu.cluster.databases.get('bank')?.schemas.get('public')?.set('accounts', { rows: 1100, bytes: 70_000 })
    const { history } = await detachedBackup(client, `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH detached`)
    expect(history.at(-1)).toMatchObject({
      status: 'succeeded',
      description: `BACKUP DATABASE bank INTO 'LATEST' IN '${COLLECTION}' WITH OPTIONS (detached)`
    })
    expect(await paths(client)).toEqual([TEN_SECONDS_AGO_FOLDER])
    const { rows, fields } = await client.query(`SHOW BACKUP FROM '${TEN_SECONDS_AGO_FOLDER.slice(1)}' IN '${COLLECTION}'`)
    expect(fields.map(f => f.name)).toEqual([
      'database_name',
      'parent_schema_name',
      'object_name',
      'object_type',
      'backup_type',
      'start_time',
      'end_time',
      'size_bytes',
      'rows',
      'is_full_cluster',
      'regions'
    ])
    expect(fields.find(f => f.name === 'end_time')?.dataTypeID).toBe(1184)
    const tables = rows.filter(r => r.object_type === 'table').map(r => [r.backup_type, r.object_name, r.rows, r.size_bytes])
    expect(tables).toEqual([
      ['full', 'accounts', '1000', '65536'],
      ['full', 'transfers', '10', '900'],
      ['incremental', 'accounts', '100', '4464'],
      ['incremental', 'transfers', '0', '0']
    ])
    const full = rows.find(r => r.backup_type === 'full')
    const incremental = rows.find(r => r.backup_type === 'incremental')
    expect(full?.start_time).toBeNull()
    expect(full?.end_time).toBe('2024-05-07 14:10:12.345+00')
    expect(incremental?.start_time).toBe(full?.end_time)
    expect(rows.find(r => r.object_type === 'database')).toMatchObject({
      database_name: null,
      parent_schema_name: null,
      object_name: 'bank'
    })
    expect(rows.find(r => r.object_type === 'schema')).toMatchObject({
      database_name: 'bank',
      parent_schema_name: null,
      object_name: 'public'
    })
  })

  it('fails INTO LATEST on an empty collection with 58P01: in the job on v22.1+, in the statement before', async () => {
    const client = await connect(await emulator())
    const { history } = await detachedBackup(client, `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH detached`)
    expect(history.at(-1)?.status).toBe('failed')
    expect(history.at(-1)?.error).toMatch(
      /^path does not contain a completed latest backup: LATEST file could not be read in base or metadata directory: /
    )
    const waited = await failure(client.query(`BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}'`))
    expect(waited.code).toBe('58P01')
    const old = await connect(await emulator({ profile: 'v21.2' }))
    const planning = await failure(old.query(`BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH detached`))
    expect(planning.code).toBe('58P01')
  })

  it("only appends to an existing full backup with INTO 'sub' IN on v22.1+, and creates one there before", async () => {
    const client = await connect(await emulator())
    const { history } = await detachedBackup(client, `BACKUP DATABASE bank INTO 'release-42' IN '${COLLECTION}' WITH detached`)
    expect(history.at(-1)).toMatchObject({
      status: 'failed',
      error:
        'No full backup exists in "/release-42" to append an incremental backup to. To take a full backup, remove the subdirectory from the backup command (i.e. run \'BACKUP ... INTO <collectionURI>\'). ',
      description: `BACKUP DATABASE bank INTO '/release-42' IN '${COLLECTION}' WITH OPTIONS (detached)`
    })
    // v22.1 (after PR #81976) names the deprecated-syntax setting instead.
    const v22_1 = await connect(await emulator({ profile: 'v22.1' }))
    const refused = await detachedBackup(v22_1, `BACKUP DATABASE bank INTO 'release-42' IN '${COLLECTION}' WITH detached`)
    expect(refused.history.at(-1)?.error).toBe(
      'A full backup cannot be written to "/release-42", a user defined subdirectory. To take a full backup, remove the subdirectory from the backup command (i.e. run \'BACKUP ... INTO <collectionURI>\'). Or, to take a full backup at a specific subdirectory, enable the deprecated syntax by switching the "bulkio.backup.deprecated_full_backup_with_subdir.enabled" cluster setting to true; however, note this deprecated syntax will not be available in a future release.'
    )
    const old = await connect(await emulator({ profile: 'v21.2' }))
    await old.query(`BACKUP DATABASE bank INTO 'release-42' IN '${COLLECTION}'`)
    expect(await paths(old)).toEqual([])
    const layers = await old.query(`SHOW BACKUP '/release-42' IN '${COLLECTION}'`)
    expect(new Set(layers.rows.map(r => r.backup_type))).toEqual(new Set(['full']))
    await old.query(`BACKUP DATABASE bank INTO 'release-42' IN '${COLLECTION}'`)
    const both = await old.query(`SHOW BACKUP 'release-42' IN '${COLLECTION}'`)
    expect(new Set(both.rows.map(r => r.backup_type))).toEqual(new Set(['full', 'incremental']))
  })

  it('lists backups written by another writer, sorted, next to its own', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const foreign = emu.addConcurrentBackup(COLLECTION, new Date(BASE_MS - 3_600_000))
    expect(foreign).toBe('/2024/05/07-131022.34')
    const [a, b] = await Promise.all([
      detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-1s' WITH detached`),
      detachedBackup(await connect(emu), `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-2s' WITH detached`)
    ])
    expect([a.history.at(-1)?.status, b.history.at(-1)?.status]).toEqual(['succeeded', 'succeeded'])
    const listed = await paths(client)
    expect(listed).toHaveLength(4)
    expect(listed[0]).toBe(foreign)
    expect(listed).toEqual([...listed].sort())
  })
})

describe('path formats across versions', () => {
  it('keeps the leading slash for a collection with a path from v21.2 on, drops it on v21.1', async () => {
    for (const [profile, expected] of [
      ['v21.1', TEN_SECONDS_AGO_FOLDER.slice(1)],
      ['v21.2', TEN_SECONDS_AGO_FOLDER],
      ['v22.1', TEN_SECONDS_AGO_FOLDER],
      ['v22.2', TEN_SECONDS_AGO_FOLDER],
      ['v25.2', TEN_SECONDS_AGO_FOLDER],
      ['v26.2', TEN_SECONDS_AGO_FOLDER]
    ] as const) {
      const client = await connect(await emulator({ profile }))
      await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
      expect(await paths(client), profile).toEqual([expected])
      // Either form is accepted back.
      const { rows } = await client.query(`SHOW BACKUP '${expected}' IN '${COLLECTION}'`)
      expect(rows.length, profile).toBeGreaterThan(0)
    }
  })

  it('lists a storage-root collection without the slash from v22.2, and nothing on early v21.2', async () => {
    for (const [profile, expected] of [
      ['v22.2', [TEN_SECONDS_AGO_FOLDER.slice(1)]],
      ['v21.2', []]
    ] as const) {
      const client = await connect(await emulator({ profile }))
      await client.query(`BACKUP DATABASE bank INTO 'userfile:///' AS OF SYSTEM TIME '-10s'`)
      expect(await paths(client, 'userfile:///'), profile).toEqual(expected)
    }
  })

  it('stores the files in userfile tables as CockroachDB names and chunks them', async () => {
    const emu = await emulator({ profile: 'v24.3' })
    emu.createDatabase('big', { blobs: { rows: 5, bytes: 9 * 1024 * 1024 } })
    const client = await connect(emu)
    await client.query(`BACKUP DATABASE big INTO 'userfile:///big-backup' AS OF SYSTEM TIME '-10s'`)
    const tables = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')
    const names = tables?.files.map(f => f.filename) ?? []
    const folder = `/big-backup${TEN_SECONDS_AGO_FOLDER}`
    expect(names).toEqual(
      expect.arrayContaining([`${folder}/BACKUP_MANIFEST`, `${folder}/BACKUP_MANIFEST-CHECKSUM`, `${folder}/BACKUP-STATISTICS`])
    )
    // From v22.1 only metadata/latest/LATEST-<hex> is written (WriteNewLatestFile, PRs #77284, #79553).
    expect(names).not.toContain('/big-backup/LATEST')
    const read = (name: string): Buffer => {
      const row = tables?.files.find(f => f.filename === name)
      const chunks = tables?.payload.filter(p => p.fileId === row?.fileId).sort((a, b) => a.byteOffset - b.byteOffset) ?? []
      return Buffer.concat(chunks.map(c => c.payload))
    }
    const manifest = read(`${folder}/BACKUP_MANIFEST`)
    expect(manifest.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]))
    expect(read(`${folder}/BACKUP_MANIFEST-CHECKSUM`)).toEqual(createHash('sha256').update(manifest).digest().subarray(0, 4))
    const sst = tables?.files.find(f => f.filename.startsWith(`${folder}/data/`) && f.filename.endsWith('.sst'))
    expect(sst?.fileSize).toBe(9 * 1024 * 1024)
    const offsets = tables?.payload.filter(p => p.fileId === sst?.fileId).map(p => p.byteOffset)
    expect(offsets).toEqual([0, USERFILE_CHUNK_BYTES, 2 * USERFILE_CHUNK_BYTES])
    expect(names.some(n => n.startsWith('/big-backup/metadata/latest/LATEST-'))).toBe(true)
  })

  it('keeps secrets of an s3 URI out of the job description', async () => {
    const client = await connect(await emulator())
    const uri = 's3://bucket/backups?AWS_ACCESS_KEY_ID=AKIA123&AWS_SECRET_ACCESS_KEY=s3cr3t'
    const { history } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${uri}' AS OF SYSTEM TIME '-10s' WITH detached`)
    expect(history.at(-1)?.description).toContain("IN 's3://bucket/backups?AWS_ACCESS_KEY_ID=AKIA123&AWS_SECRET_ACCESS_KEY=redacted'")
    expect(await paths(client, uri)).toEqual([TEN_SECONDS_AGO_FOLDER])
  })
})

describe('SHOW BACKUP', () => {
  it('uses TIMESTAMP and no regions column before v23.1, and no check_files or FROM on v21.x', async () => {
    const client = await connect(await emulator({ profile: 'v22.2' }))
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const { fields, rows } = await client.query(`SHOW BACKUP FROM LATEST IN '${COLLECTION}' WITH check_files`)
    expect(fields.map(f => f.name)).not.toContain('regions')
    expect(fields.at(-1)?.name).toBe('file_bytes')
    expect(fields.find(f => f.name === 'end_time')?.dataTypeID).toBe(1114)
    expect(rows.find(r => r.object_name === 'accounts')?.end_time).toBe('2024-05-07 14:10:12.345')
    expect(rows.find(r => r.object_name === 'accounts')?.file_bytes).toBe('65536')
    // v21.1: 9 columns, no backup_type (PR #63832, v21.2.0-beta.1).
    const v21_1 = await connect(await emulator({ profile: 'v21.1' }))
    await v21_1.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    expect((await v21_1.query(`SHOW BACKUP '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}'`)).fields.map(f => f.name)).toEqual([
      'database_name',
      'parent_schema_name',
      'object_name',
      'object_type',
      'start_time',
      'end_time',
      'size_bytes',
      'rows',
      'is_full_cluster'
    ])
    const old = await connect(await emulator({ profile: 'v21.2' }))
    await old.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
    expect(await failure(old.query(`SHOW BACKUP LATEST IN '${COLLECTION}' WITH check_files`))).toMatchObject({
      code: 'XXUUU',
      message: 'invalid option "check_files"'
    })
    expect((await failure(old.query(`SHOW BACKUP FROM LATEST IN '${COLLECTION}'`))).message).toBe('at or near "from": syntax error')
  })

  it('reports missing files with check_files and a missing folder as a storage error', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const missing = await failure(client.query(`SHOW BACKUP '/2020/01/01-000000.00' IN '${COLLECTION}'`))
    expect(missing.message).toBe(
      'could not find BACKUP manifest file in any of the known locations: BACKUP_METADATA, BACKUP_MANIFEST, BACKUP: ' +
        "file /bank-backup/2020/01/01-000000.00/BACKUP does not exist in the UserFileTableSystem: external_storage: file doesn't exist"
    )
    // Before the BACKUP_METADATA format the BACKUP_MANIFEST error stands alone; the newer userfile wording has no path.
    const v22 = await connect(await emulator({ profile: 'v22.2' }))
    expect((await failure(v22.query(`SHOW BACKUP '/2020/01/01-000000.00' IN '${COLLECTION}'`))).message).toBe(
      "file /bank-backup/2020/01/01-000000.00/BACKUP_MANIFEST does not exist in the UserFileTableSystem: external_storage: file doesn't exist"
    )
    const v25 = await connect(await emulator({ profile: 'v25.2' }))
    expect((await failure(v25.query(`SHOW BACKUP '/2020/01/01-000000.00' IN '${COLLECTION}'`))).message).toBe(
      'could not find BACKUP manifest file in any of the known locations: BACKUP_METADATA, BACKUP_MANIFEST, BACKUP: ' +
        'file does not exist: file does not exist in the UserFileTableSystem: external_storage: file does not exist'
    )
    const tables = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')
    if (!tables) throw new Error('no userfile tables')
    tables.files = tables.files.filter(f => !f.filename.endsWith('.sst'))
    expect((await client.query(`SHOW BACKUP '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}'`)).rows.length).toBeGreaterThan(0)
    const checked = await failure(client.query(`SHOW BACKUP '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' WITH check_files`))
    expect(checked.message).toMatch(
      /^The following files are missing from the backup:\n\tuserfile:\/\/defaultdb\.public\.userfiles_root\/bank-backup\/2024\/05\/07-141012\.34\/data\/\d+\.sst/
    )
  })

  it('needs the passphrase of an encrypted backup and never echoes it', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    const { history } = await detachedBackup(
      client,
      `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached, encryption_passphrase = 'correct horse'`
    )
    expect(history.at(-1)?.description).toContain("WITH OPTIONS (encryption_passphrase = '*****', detached)")
    const without = await failure(client.query(`SHOW BACKUP LATEST IN '${COLLECTION}'`))
    expect(without.message).toMatch(/^file appears encrypted -- try specifying one of "encryption_passphrase" or "kms"/)
    const wrong = await failure(
      client.query({ text: `SHOW BACKUP LATEST IN '${COLLECTION}' WITH encryption_passphrase = $1`, values: ['wrong horse'] })
    )
    expect(wrong.message).toBe('cipher: message authentication failed')
    const right = await client.query(`SHOW BACKUP LATEST IN '${COLLECTION}' WITH encryption_passphrase = 'correct horse'`)
    expect(right.rows.filter(r => r.object_type === 'table')).toHaveLength(2)
    const log = emu.statements.filter(s => s.sql.includes('encryption_passphrase'))
    expect(log.some(s => s.sql.includes("'correct horse'"))).toBe(true)
    expect(log.every(s => !s.redactedSql.includes('correct horse'))).toBe(true)
  })
})

describe('an explicit non-date subdirectory and the backup index (facts §16, §23)', () => {
  const PARSE = 'parsing time "/release-42" as "/2006/01/02-150405.00": cannot parse "release-42" as "2006"'

  /** A full backup copied into /release-42, as one made before v25.4 or uploaded by the restore companion would be. */
  async function withSubdirectory(profile: ProfileName): Promise<pg.Client> {
    const emu = await emulator({ profile, now: () => new Date() })
    const client = await connect(emu)
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
    const [folder = ''] = await paths(client)
    const storage = openStorage(emu.cluster, COLLECTION, 'root')
    for (const name of storage.list().map(n => n.replace(/^\/?/, '/'))) {
      if (name.startsWith(`${folder}/`)) storage.write(name.replace(folder, '/release-42'), storage.read(name) ?? Buffer.alloc(0))
    }
    return client
  }

  const append = `BACKUP DATABASE bank INTO 'release-42' IN '${COLLECTION}'`
  const show = `SHOW BACKUP 'release-42' IN '${COLLECTION}'`
  const restore = `RESTORE DATABASE bank FROM 'release-42' IN '${COLLECTION}' WITH new_db_name = 'b2'`

  it('up to v25.3 appends an incremental and reads the chain', async () => {
    const client = await withSubdirectory('v25.3')
    await client.query(append)
    expect(new Set((await client.query(show)).rows.map(r => r.backup_type))).toEqual(new Set(['full', 'incremental']))
  })

  for (const [profile, error] of [
    ['v25.4', `writing backup index metadata: parsing subdir "/release-42" for flattening: ${PARSE}`],
    ['v26.1', `writing backup index metadata: invalid subdir format: /release-42: ${PARSE}`]
  ] as const) {
    it(`on ${profile} fails the incremental when it writes its index entry, and still reads and restores the full backup`, async () => {
      const client = await withSubdirectory(profile)
      expect((await failure(client.query(append))).message).toContain(error)
      expect((await client.query(show)).rows.length).toBeGreaterThan(0)
      await client.query(restore)
    })
  }

  it('on v26.2 (backup.index.read.enabled) fails BACKUP, SHOW BACKUP and RESTORE there', async () => {
    const client = await withSubdirectory('v26.2')
    for (const statement of [append, show, restore])
      expect((await failure(client.query(statement))).message, statement).toContain(`invalid subdir format: /release-42: ${PARSE}`)
  })
})
