/** The emulator's session variables, version profiles and clock (AS OF SYSTEM TIME), through the real `pg` driver. */
import pg from 'pg'
import { utcOffsetMinutes } from './session-variables.js'
import { describe, expect, it } from 'vitest'
import { type ProfileName, PROFILE_NAMES, PROFILES, statementsReceivedByAllEmulators } from './index.js'
import { encodeDescendingTime } from './backup-layout.js'
import {
  COLLECTION,
  BASE_MS,
  TEN_SECONDS_AGO_FOLDER,
  emulator,
  connect,
  failure,
  JOB_STATUS,
  detachedBackup,
  paths
} from '../support/emulator-client.js'

describe('session variables and the crdb_internal restriction', () => {
  const HINT =
    'These interfaces are unsupported in production. To proceed, set the session variable allow_unsafe_internals = true (not recommended), or contact Cockroach Labs for a supported alternative.'

  it.each(['v26.1', 'v26.2', 'v26.3'] as const)('%s refuses crdb_internal and system with 42501 and the exact hint', async profile => {
    const client = await connect(await emulator({ profile }))
    for (const text of [JOB_STATUS.replace('$1', '1'), 'SELECT * FROM system.jobs', 'SELECT crdb_internal.force_error(1)']) {
      const error = await failure(client.query(text))
      expect(error.code).toBe('42501')
      expect(error.message).toBe('Access to crdb_internal and system is restricted.')
      expect(error.hint).toBe(HINT)
    }
    // SHOW JOB is the supported route: it reads crdb_internal.jobs internally, and is not refused.
    const { rows } = await client.query('SELECT status FROM [SHOW JOB 1]')
    expect(rows).toEqual([])
    await client.query('SET allow_unsafe_internals = true')
    expect((await client.query(JOB_STATUS, ['1'])).rows).toEqual([])
  })

  it.each(['v25.2', 'v25.4'] as const)('%s answers crdb_internal queries by default', async profile => {
    const client = await connect(await emulator({ profile }))
    expect((await client.query(JOB_STATUS, ['1'])).rows).toEqual([])
  })

  it('collects every statement of every emulator started in the file (for the e2e scan for crdb_internal)', async () => {
    const first = await connect(await emulator({ profile: 'v25.4' }))
    const second = await connect(await emulator({ profile: 'v26.2' }))
    await first.query("SELECT 'first-emulator-marker'")
    await second.query("SELECT 'second-emulator-marker'")
    const all = statementsReceivedByAllEmulators().map(s => s.sql)
    expect(all).toContain("SELECT 'first-emulator-marker'")
    expect(all).toContain("SELECT 'second-emulator-marker'")
  })

  it('has allow_unsafe_internals from v25.4 and use_backups_with_ids from v26.2 only', async () => {
    const cases: [ProfileName, string, boolean][] = [
      ['v25.2', 'allow_unsafe_internals', false],
      ['v25.4', 'allow_unsafe_internals', true],
      ['v26.1', 'use_backups_with_ids', false],
      ['v26.2', 'use_backups_with_ids', true],
      ['v26.3', 'use_backups_with_ids', true]
    ]
    for (const [profile, variable, exists] of cases) {
      const client = await connect(await emulator({ profile }))
      const result = client.query(`SET ${variable} = false`)
      if (exists) await result
      else expect(await failure(result)).toMatchObject({ code: '42704', message: `unrecognized configuration parameter "${variable}"` })
    }
  })

  it.each(['v26.2', 'v26.3'] as const)(
    '%s lists id, backup_time, revision_start_time when a role default turns use_backups_with_ids on',
    async profile => {
      const emu = await emulator({ profile })
      const setup = await connect(emu)
      await setup.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
      emu.setRoleDefault('use_backups_with_ids', 'true')
      const client = await connect(emu)
      const withIds = await client.query(`SHOW BACKUPS IN '${COLLECTION}'`)
      expect(withIds.fields.map(f => f.name)).toEqual(['id', 'backup_time', 'revision_start_time'])
      expect(withIds.rows[0]?.backup_time).toBe('2024-05-07 14:10:12.34+00')
      await client.query('SET use_backups_with_ids = false')
      const withPaths = await client.query(`SHOW BACKUPS IN '${COLLECTION}'`)
      expect(withPaths.rows).toEqual([{ path: TEN_SECONDS_AGO_FOLDER }])
    }
  )
})

describe('profiles', () => {
  it('builds each profile as the one before it plus named changes (v25.3: SHOW JOBS without started, compaction; v26.3: none modelled)', () => {
    const ignored = new Set(['name', 'versionString'])
    const changes = PROFILE_NAMES.slice(1).map((name, i) => {
      const before = PROFILES[PROFILE_NAMES[i]!] as unknown as Record<string, unknown>
      const after = PROFILES[name] as unknown as Record<string, unknown>
      const changed = Object.keys(after).filter(key => !ignored.has(key) && JSON.stringify(after[key]) !== JSON.stringify(before[key]))
      return [name, changed] as const
    })
    for (const [name, changed] of changes) {
      if (name === 'v25.3') expect(changed.sort(), name).toEqual(['compactsBackups', 'showJobsHasStarted'])
      else if (name === 'v26.3') expect(changed, name).toEqual([])
      else expect(changed.length, name).toBeGreaterThan(0)
    }
    expect(Object.fromEntries(changes)['v25.3']).toEqual(['compactsBackups', 'showJobsHasStarted'])
    expect(Object.fromEntries(changes)['v24.3']).toEqual([
      'showJobColumns',
      'showJobsTruncatesTimes',
      'showJobsAbbreviatesDescriptions',
      'detachedJobsFromZonesAheadOfUtcNeverStart',
      'enterpriseFeaturesNeedLicence'
    ])
  })

  it('reports the version it plays in version()', async () => {
    for (const profile of ['v22.1', 'v25.3', 'v26.2', 'v26.3'] as const) {
      const client = await connect(await emulator({ profile }))
      const { rows } = await client.query<{ version: string }>('SELECT version()')
      expect(rows[0]?.version).toMatch(new RegExp(`^CockroachDB CCL ${profile.replace('.', '\\.')}\\.\\d+ `))
    }
  })

  it('rejects check_files on v22.1 (PR #80491 is v22.2) and accepts it on v22.2', async () => {
    for (const [profile, accepted] of [
      ['v22.1', false],
      ['v22.2', true]
    ] as const) {
      const client = await connect(await emulator({ profile }))
      await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
      const query = client.query(`SHOW BACKUP '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' WITH check_files`)
      if (accepted) expect((await query).fields.map(f => f.name)).toContain('file_bytes')
      else expect(await failure(query)).toMatchObject({ code: 'XXUUU', message: 'invalid option "check_files"' })
    }
  })

  it('writes a backup index entry per layer from v25.4, in a directory named as each version names it', async () => {
    for (const [profile, entries, directory] of [
      ['v25.3', 0, /^$/],
      ['v25.4', 2, /^\d{4}-\d{2}-\d{2}-\d{6}\.\d{2}$/],
      ['v26.1', 2, /^82[0-9a-f]{12}_\d{8}-\d{6}\.\d{2}$/]
    ] as const) {
      const emu = await emulator({ profile, now: () => new Date() })
      const client = await connect(emu)
      await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
      await client.query(`BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}'`)
      const names = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')?.files.map(f => f.filename) ?? []
      const index = names.filter(name => name.startsWith('/bank-backup/metadata/index/'))
      expect(index, profile).toHaveLength(entries)
      for (const name of index) {
        const [dir = '', file = ''] = name.slice('/bank-backup/metadata/index/'.length).split('/')
        expect(dir).toMatch(directory)
        expect(file).toMatch(/^8[0-7][0-9a-f]+_(0|\d{8}-\d{6}\.\d{2})_\d{8}-\d{6}\.\d{2}_metadata\.pb$/)
      }
    }
  })

  it('encodes end times as EncodeDescendingTS does: 0x88 - n, then the complement of the milliseconds in n bytes', () => {
    expect(encodeDescendingTime(Date.UTC(2025, 7, 13, 12))).toBe('82fe675cb2d5ff')
    expect(encodeDescendingTime(0)).toBe('88')
    expect(encodeDescendingTime(1)).toBe('87fe')
    expect(encodeDescendingTime(Date.UTC(2025, 7, 13, 12, 0, 0, 10)) < encodeDescendingTime(Date.UTC(2025, 7, 13, 12))).toBe(true)
  })
})

describe('time: creation and writes seen AS OF SYSTEM TIME', () => {
  async function showRows(client: pg.Client, folder: string): Promise<string[]> {
    const { rows } = await client.query<{ object_name: string; rows: string | null }>(`SHOW BACKUP '${folder}' IN '${COLLECTION}'`)
    return rows.filter(r => r.rows !== null).map(r => `${r.object_name}=${r.rows}`)
  }

  it('answers cluster_logical_timestamp() with its clock as a DECIMAL: nanoseconds, then 10 logical digits', async () => {
    const client = await connect(await emulator())
    const result = await client.query<{ cluster_logical_timestamp: string }>('SELECT cluster_logical_timestamp()')
    expect(result.fields.map(f => [f.name, f.dataTypeID])).toEqual([['cluster_logical_timestamp', 1700]])
    expect(result.rows[0]?.cluster_logical_timestamp).toBe(`${BigInt(BASE_MS) * 1_000_000n}.0000000000`)
    // Read back AS OF SYSTEM TIME exactly: the backup ends at that very millisecond.
    const { jobId } = await detachedBackup(
      client,
      `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '${BigInt(BASE_MS) * 1_000_000n}.0000000000' WITH detached`
    )
    expect(jobId).not.toBe('')
    expect(await paths(client)).toEqual(['/2024/05/07-141022.34'])
  })

  it('fails to resolve a database created after the backup time, and backs it up from its creation on', async () => {
    const emu = await emulator()
    emu.createDatabase('fresh', { t: { rows: 5, bytes: 50 } }, { createdAt: new Date(BASE_MS - 1000) })
    const client = await connect(emu)
    const early = await failure(client.query(`BACKUP DATABASE fresh INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`))
    expect([early.code, early.message]).toEqual([
      'XXUUU',
      'failed to resolve targets specified in the BACKUP stmt: database "fresh" does not exist, or invalid RESTORE timestamp: supplied backups do not cover requested time'
    ])
    const table = await failure(client.query(`BACKUP TABLE fresh.t INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`))
    expect(table.message).toMatch(/^failed to resolve targets specified in the BACKUP stmt: table "fresh\.t" does not exist/)
    await detachedBackup(client, `BACKUP DATABASE fresh INTO '${COLLECTION}' AS OF SYSTEM TIME '-1s' WITH detached`)
    expect(await showRows(client, '/2024/05/07-141021.34')).toEqual(['t=5'])
  })

  it('lists a table that exists now with [SHOW TABLES FROM db.schema], whatever its creation time', async () => {
    const emu = await emulator()
    emu.createDatabase('fresh', { t: { rows: 5, bytes: 50 } }, { createdAt: new Date(BASE_MS - 1000) })
    const client = await connect(emu)
    const query = 'SELECT table_name FROM [SHOW TABLES FROM fresh.public] WHERE table_name = $1'
    expect((await client.query(query, ['t'])).rows).toEqual([{ table_name: 't' }])
    expect((await client.query(query, ['nope'])).rows).toEqual([])
    const missing = await failure(client.query('SELECT table_name FROM [SHOW TABLES FROM nope.public] WHERE table_name = $1', ['t']))
    expect(missing.code).toBe('3F000')
  })

  it('backs up the rows of the last write at or before the backup time, not later ones', async () => {
    const emu = await emulator()
    emu.createDatabase('shop', { orders: { rows: 40, bytes: 4000 } }, { createdAt: new Date(BASE_MS - 3_600_000) })
    emu.writeRows('shop', 'orders', { rows: 45, bytes: 4500 }, new Date(BASE_MS - 20_000))
    emu.writeRows('shop', 'orders', { rows: 50, bytes: 5000 }, new Date(BASE_MS - 1000))
    const client = await connect(emu)
    const asOf = async (text: string, folder: string): Promise<string[]> => {
      await detachedBackup(client, `BACKUP DATABASE shop INTO '${COLLECTION}' AS OF SYSTEM TIME '${text}' WITH detached`)
      return showRows(client, folder)
    }
    expect(await asOf('-30s', '/2024/05/07-140952.34')).toEqual(['orders=40'])
    expect(await asOf('-10s', TEN_SECONDS_AGO_FOLDER)).toEqual(['orders=45'])
    expect(await asOf('-1s', '/2024/05/07-141021.34')).toEqual(['orders=50'])
    expect(emu.cluster.databases.get('shop')?.schemas.get('public')?.get('orders')).toMatchObject({ rows: 50, bytes: 5000 })
  })
})

describe('time zone and isolation: role defaults and the connection options reach the session', () => {
  const BACKUP = `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`

  async function statusAfterAWhile(client: pg.Client): Promise<string | undefined> {
    const { rows } = await client.query<{ job_id: string }>(BACKUP)
    await new Promise(resolve => setTimeout(resolve, 200))
    const status = await client.query<{ status: string }>(`SELECT status FROM [SHOW JOB ${rows[0]?.job_id}]`)
    return status.rows[0]?.status
  }

  it('v23.2: a detached BACKUP from a session ahead of UTC stays running (cockroach #123207); v24.3 runs it; SET TIME ZONE fixes it', async () => {
    const old = await emulator({ profile: 'v23.2' })
    old.setRoleDefault('timezone', 'Asia/Kolkata')
    expect(await statusAfterAWhile(await connect(old))).toBe('running')
    const pinned = await connect(old)
    await pinned.query("SET TIME ZONE 'UTC'")
    expect(await statusAfterAWhile(pinned)).toBe('succeeded')
    const fixed = await emulator({ profile: 'v24.3' })
    fixed.setRoleDefault('timezone', 'Asia/Kolkata')
    expect(await statusAfterAWhile(await connect(fixed))).toBe('succeeded')
  })

  it('takes the zone from the connection options too: a bare hour count east of UTC, an offset with a colon or a UTC prefix west (POSIX), names by their offset', async () => {
    const emu = await emulator({ profile: 'v23.2' })
    expect(await statusAfterAWhile(await connect(emu, { options: '-c TimeZone=+5' }))).toBe('running')
    expect(await statusAfterAWhile(await connect(emu, { options: '-c TimeZone=-05:00' }))).toBe('running')
    expect(await statusAfterAWhile(await connect(emu, { options: '-c TimeZone=Asia/Kolkata' }))).toBe('running')
    expect(await statusAfterAWhile(await connect(emu, { options: '-c TimeZone=+05:00' }))).toBe('succeeded')
  })

  it('reads offsets as CockroachDB does: a bare number east, a colon or a UTC/GMT prefix west, named zones by Intl', () => {
    const at = new Date('2026-12-05T12:00:00Z')
    expect([utcOffsetMinutes('+5', at), utcOffsetMinutes('5', at), utcOffsetMinutes('-3', at)]).toEqual([300, 300, -180])
    expect([
      utcOffsetMinutes('+05:00', at),
      utcOffsetMinutes('-05:30', at),
      utcOffsetMinutes('UTC+5', at),
      utcOffsetMinutes('gmt-2', at)
    ]).toEqual([-300, 330, -300, 120])
    expect([utcOffsetMinutes('Asia/Kolkata', at), utcOffsetMinutes('UTC', at), utcOffsetMinutes('Nowhere/Else', at)]).toEqual([330, 0, 0])
  })

  it('refuses cluster_logical_timestamp() under READ COMMITTED or REPEATABLE READ from v23.2 (0A000), not before', async () => {
    const emu = await emulator({ profile: 'v23.2' })
    emu.setRoleDefault('default_transaction_isolation', 'read committed')
    const client = await connect(emu)
    const error = await failure(client.query('SELECT cluster_logical_timestamp()'))
    expect([error.code, error.message]).toEqual(['0A000', 'unsupported in READ COMMITTED isolation'])
    await client.query("SET default_transaction_isolation = 'serializable'")
    expect((await client.query('SELECT cluster_logical_timestamp()')).rows).toHaveLength(1)
    const viaOptions = await connect(await emulator({ profile: 'v26.2' }), {
      options: '-c default_transaction_isolation=repeatable\\ read'
    })
    expect((await failure(viaOptions.query('SELECT cluster_logical_timestamp()'))).message).toBe('unsupported in REPEATABLE READ isolation')
    const older = await emulator({ profile: 'v22.2' })
    older.setRoleDefault('default_transaction_isolation', 'read committed')
    expect((await (await connect(older)).query('SELECT cluster_logical_timestamp()')).rows).toHaveLength(1)
  })
})
