/**
 * The CockroachDB emulator, checked through the real `pg` driver: wire protocol, authentication,
 * every statement shape the action sends, version-dependent path formats and columns, the job
 * lifecycle, and the network controls tests use.
 */
import { createHash } from 'node:crypto'
import net from 'node:net'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestCertificates } from './support/certs.js'
import {
  reserveEmulatorPort,
  startEmulator,
  USERFILE_CHUNK_BYTES,
  type Emulator,
  type EmulatorOptions,
  type ProfileName,
  PROFILE_NAMES,
  PROFILES,
  statementsReceivedByAllEmulators
} from './emulator/index.js'

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'
/** 2024-05-07 14:10:22.345 UTC: with AS OF SYSTEM TIME '-10s' the folder is /2024/05/07-141012.34. */
const BASE_MS = Date.UTC(2024, 4, 7, 14, 10, 22, 345)
const TEN_SECONDS_AGO_FOLDER = '/2024/05/07-141012.34'

/** Raw text for every type, so tests see exactly what the server sent. */
const rawText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig

const emulators: Emulator[] = []
const clients: pg.Client[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.end().catch((error: unknown) => error)))
  await Promise.all(emulators.splice(0).map(e => e.close()))
})

/** A stopped clock: folder names and times are exact. Jobs advance on their own timer, not on this clock. */
const fixedClock = (): (() => Date) => () => new Date(BASE_MS)

async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emu = await startEmulator({ profile: 'v23.2', now: fixedClock(), jobDurationMs: 60, ...options })
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 65_536 }, transfers: { rows: 10, bytes: 900 } })
  emulators.push(emu)
  return emu
}

async function connect(emu: Emulator, config: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: emu.connectionString(), types: rawText, ...config })
  clients.push(client)
  await client.connect()
  return client
}

async function failure(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(error instanceof pg.DatabaseError)) throw new Error(`expected a DatabaseError, got ${String(error)}`)
  return error
}

const JOB_STATUS = 'SELECT status, fraction_completed, error, description FROM crdb_internal.jobs WHERE job_id = $1'

interface JobRow {
  status: string
  fraction_completed: string
  error: string
  description: string
}

async function pollJob(client: pg.Client, jobId: string): Promise<JobRow[]> {
  const seen: JobRow[] = []
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query<JobRow>({ name: 'job-status', text: JOB_STATUS, values: [jobId] })
    const row = rows[0]
    if (!row) throw new Error(`job ${jobId} not found`)
    seen.push(row)
    if (['succeeded', 'failed', 'canceled'].includes(row.status)) return seen
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('job did not finish')
}

async function detachedBackup(client: pg.Client, sql: string): Promise<{ jobId: string; history: JobRow[] }> {
  const { rows } = await client.query<{ job_id: string }>(sql)
  const jobId = rows[0]?.job_id ?? ''
  return { jobId, history: await pollJob(client, jobId) }
}

async function paths(client: pg.Client, collection = COLLECTION): Promise<string[]> {
  const { rows } = await client.query<{ path: string }>(`SHOW BACKUPS IN '${collection}'`)
  return rows.map(r => r.path)
}

describe('wire protocol', () => {
  it('answers simple queries with CockroachDB column names, OIDs and version', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    const session = await client.query('SELECT current_user, version()')
    expect(session.fields.map(f => [f.name, f.dataTypeID])).toEqual([
      ['current_user', 25],
      ['version', 25]
    ])
    expect(session.rows).toEqual([{ current_user: 'root', version: emu.profile.versionString }])
    expect(emu.profile.versionString).toMatch(/^CockroachDB CCL v23\.2\.\d+ \(x86_64-pc-linux-gnu, built \d{4}\/\d{2}\/\d{2} /)
    const one = await client.query('SELECT 1')
    expect(one.fields.map(f => [f.name, f.dataTypeID])).toEqual([['?column?', 20]])
    expect(one.rows).toEqual([{ '?column?': '1' }])
  })

  it('runs several statements of one simple query in order', async () => {
    const client = await connect(await emulator())
    const results = (await client.query('SELECT 1; SELECT current_user;')) as unknown as pg.QueryResult[]
    expect(results.map(r => r.rows)).toEqual([[{ '?column?': '1' }], [{ current_user: 'root' }]])
  })

  it('reports server parameters the way CockroachDB does', async () => {
    const emu = await emulator()
    const shown = await new Promise<Record<string, string>>((resolve, reject) => {
      const seen: Record<string, string> = {}
      const raw = net.connect(emu.port, emu.host)
      raw.on('error', reject)
      raw.on('connect', () => {
        const body = Buffer.from('\0\x03\0\0user\0root\0database\0defaultdb\0\0', 'latin1')
        const length = Buffer.alloc(4)
        length.writeInt32BE(body.length + 4)
        raw.write(Buffer.concat([length, body]))
      })
      let buffer = Buffer.alloc(0)
      raw.on('data', chunk => {
        buffer = Buffer.concat([buffer, chunk])
        while (buffer.length >= 5 && buffer.length >= buffer.readInt32BE(1) + 1) {
          const end = buffer.readInt32BE(1) + 1
          const type = String.fromCharCode(buffer[0] ?? 0)
          const [key = '', value = ''] = buffer.subarray(5, end).toString('utf8').split('\0')
          buffer = buffer.subarray(end)
          if (type === 'S') seen[key] = value
          if (type === 'Z') {
            raw.destroy()
            resolve(seen)
          }
        }
      })
    })
    expect(shown).toMatchObject({
      server_version: '13.0.0',
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      IntervalStyle: 'postgres',
      TimeZone: 'UTC',
      integer_datetimes: 'on',
      standard_conforming_strings: 'on',
      crdb_version: emu.profile.versionString
    })
  })

  it('uses the extended protocol with parameters and reuses named statements without a new Parse', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    const { jobId } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    for (let i = 0; i < 3; i++) {
      const result = await client.query({ name: 'poll', text: JOB_STATUS, values: [jobId] })
      expect(result.fields.map(f => [f.name, f.dataTypeID])).toEqual([
        ['status', 25],
        ['fraction_completed', 701],
        ['error', 25],
        ['description', 25]
      ])
      expect(result.rows).toEqual([expect.objectContaining({ status: 'succeeded', fraction_completed: '1', error: '' })])
    }
    const polls = emu.statements.filter(s => s.sql === JOB_STATUS && s.params[0] === jobId)
    expect(polls.length).toBeGreaterThanOrEqual(3)
    expect(polls.every(s => s.protocol === 'extended')).toBe(true)
    const missing = await client.query({ text: JOB_STATUS, values: ['42'] })
    expect(missing.rows).toEqual([])
  })

  it('skips to Sync after an error in an extended batch and keeps the connection usable', async () => {
    const client = await connect(await emulator())
    const error = await failure(client.query({ text: 'SELEC $1', values: ['x'] }))
    expect(error.code).toBe('42601')
    expect(error.message).toBe('at or near "selec": syntax error')
    const notANumber = await failure(client.query({ text: JOB_STATUS, values: ['abc'] }))
    expect(notANumber.code).toBe('22P02')
    expect((await client.query({ text: 'SELECT $1::STRING AS v', values: ['ok'] })).rows).toEqual([{ v: 'ok' }])
  })

  it('reports a syntax error at the first token it cannot take, never echoing a string literal', async () => {
    const client = await connect(await emulator())
    expect((await failure(client.query('TRUNCATE bank'))).message).toBe('at or near "truncate": syntax error')
    expect((await failure(client.query('SELECT current_user FROM'))).message).toBe('at or near "EOF": syntax error')
    const secret = await failure(client.query("BACKUP DATABASE bank INTO 'x' WITH encryption_passphrase = 'hunter2' 'extra'"))
    expect(secret.code).toBe('42601')
    expect(secret.message).not.toContain('hunter2')
    expect(secret.message).not.toContain('extra')
  })

  it('honours a binary result format request for INT8 and text', async () => {
    // @types/pg lacks ClientConfig.binary, which pg reads to ask for binary results.
    const client = await connect(await emulator(), Object.assign({ types: undefined }, { binary: true }))
    const result = await client.query({ text: 'SELECT 7 AS n, $1::STRING AS s, version() AS v', values: ['hi'] })
    // pg's binary INT8 parser gives a string; a wrong byte layout would not read back as 7.
    expect(result.rows).toEqual([{ n: '7', s: 'hi', v: expect.stringMatching(/^CockroachDB CCL v23\.2/) }])
    expect(result.fields.map(f => f.format)).toEqual(['binary', 'binary', 'binary'])
  })
})

describe('authentication and TLS', () => {
  it('accepts the right password and refuses a wrong one or an unknown user with 28P01', async () => {
    const emu = await emulator({ users: { alice: 'pw' } })
    const alice = await connect(emu, { connectionString: emu.connectionString('alice', 'pw') })
    expect((await alice.query('SELECT current_user')).rows).toEqual([{ current_user: 'alice' }])
    for (const [user, password] of [
      ['alice', 'nope'],
      ['bob', 'pw']
    ] as const) {
      const client = new pg.Client({ connectionString: emu.connectionString(user, password) })
      const error = await failure(client.connect())
      expect(error.code).toBe('28P01')
      expect(error.message).toBe(`password authentication failed for user ${user}`)
      expect(error.message).not.toContain(password)
    }
  })

  it('lets anyone in without a password in insecure mode', async () => {
    const client = await connect(await emulator(), { connectionString: (await emulator()).connectionString('carol') })
    expect((await client.query('SELECT current_user')).rows).toEqual([{ current_user: 'carol' }])
  })

  it('refuses SSL when it has no certificate, so a client that requires TLS fails', async () => {
    const emu = await emulator()
    const client = new pg.Client({
      host: emu.host,
      port: emu.port,
      user: 'root',
      database: 'defaultdb',
      ssl: { rejectUnauthorized: false }
    })
    await expect(client.connect()).rejects.toThrow(/does not support SSL/)
  })

  it('speaks TLS when given a certificate, and verifies against the CA', async () => {
    const certs = await createTestCertificates()
    try {
      const emu = await emulator({ tls: { key: certs.server.key, cert: certs.server.cert } })
      const client = await connect(emu, {
        connectionString: undefined,
        host: emu.host,
        port: emu.port,
        user: 'root',
        database: 'defaultdb',
        ssl: { ca: certs.ca.cert }
      })
      expect((await client.query('SELECT current_user')).rows).toEqual([{ current_user: 'root' }])
      const wrongCa = new pg.Client({ host: emu.host, port: emu.port, user: 'root', ssl: { ca: certs.otherCa.cert } })
      await expect(wrongCa.connect()).rejects.toThrow(/certificate/)
    } finally {
      await certs.remove()
    }
  })
})

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
      description: `BACKUP DATABASE bank INTO '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
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

  it('backs up tables by every name form and fully qualifies them in the description', async () => {
    const emu = await emulator()
    const client = await connect(emu, { connectionString: emu.connectionString('root', undefined, 'bank') })
    const { history } = await detachedBackup(
      client,
      `BACKUP TABLE accounts, public.transfers, "bank".public.* INTO '${COLLECTION}' WITH detached`
    )
    expect(history.at(-1)?.description).toMatch(
      /^BACKUP TABLE bank\.public\.accounts, bank\.public\.transfers, bank\.public\.\* INTO '\/2024\//
    )
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
      `BACKUP DATABASE "we""ird" INTO '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH revision_history = true, detached`
    )
    expect(await paths(client)).toEqual([TEN_SECONDS_AGO_FOLDER])
    const old = await connect(await emulator({ profile: 'v21.2' }))
    await old.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const latest = await detachedBackup(old, `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH revision_history = true, detached`)
    // v21.x resolves LATEST before writing the description and prints the bare flag.
    expect(latest.history.at(-1)?.description).toBe(
      `BACKUP DATABASE bank INTO '${TEN_SECONDS_AGO_FOLDER}' IN '${COLLECTION}' WITH revision_history, detached`
    )
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
      description: `BACKUP DATABASE bank INTO 'LATEST' IN '${COLLECTION}' WITH detached`
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
      description: `BACKUP DATABASE bank INTO '/release-42' IN '${COLLECTION}' WITH detached`
    })
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
      expect.arrayContaining([
        `${folder}/BACKUP_MANIFEST`,
        `${folder}/BACKUP_MANIFEST-CHECKSUM`,
        `${folder}/BACKUP-STATISTICS`,
        '/big-backup/LATEST'
      ])
    )
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
    const old = await connect(await emulator({ profile: 'v21.2' }))
    await old.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
    expect((await failure(old.query(`SHOW BACKUP LATEST IN '${COLLECTION}' WITH check_files`))).code).toBe('42601')
    expect((await failure(old.query(`SHOW BACKUP FROM LATEST IN '${COLLECTION}'`))).message).toBe('at or near "from": syntax error')
  })

  it('reports missing files with check_files and a missing folder as a storage error', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s'`)
    const missing = await failure(client.query(`SHOW BACKUP '/2020/01/01-000000.00' IN '${COLLECTION}'`))
    expect(missing.message).toBe(
      "file /bank-backup/2020/01/01-000000.00/BACKUP_MANIFEST does not exist in the UserFileTableSystem: external_storage: file doesn't exist"
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
    expect(history.at(-1)?.description).toContain("WITH encryption_passphrase = '*****', detached")
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

describe('jobs', () => {
  it('shows SHOW JOB with its column set and answers SELECT … FROM [SHOW JOB n]', async () => {
    const client = await connect(await emulator())
    const { jobId } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    const job = await client.query(`SHOW JOB ${jobId}`)
    expect(job.fields.map(f => f.name)).toEqual([
      'job_id',
      'job_type',
      'description',
      'statement',
      'user_name',
      'status',
      'running_status',
      'created',
      'started',
      'finished',
      'modified',
      'fraction_completed',
      'error',
      'coordinator_id',
      'trace_id',
      'last_run',
      'next_run',
      'num_runs',
      'execution_errors'
    ])
    expect(job.rows[0]).toMatchObject({ job_id: jobId, job_type: 'BACKUP', user_name: 'root', status: 'succeeded' })
    const selected = await client.query(`SELECT status, fraction_completed, error FROM [SHOW JOB ${jobId}]`)
    expect(selected.rows).toEqual([{ status: 'succeeded', fraction_completed: '1', error: '' }])
    const unknown = await failure(client.query(`SELECT nope FROM [SHOW JOB ${jobId}]`))
    expect([unknown.code, unknown.message]).toEqual(['42703', 'column "nope" does not exist'])
  })

  it('fails the next job with the injected error, in the job and in a waiting statement', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    emu.failNextJob({ message: 'simulated: out of disk' })
    const { history } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    expect(history.at(-1)).toMatchObject({ status: 'failed', error: 'simulated: out of disk' })
    emu.failNextJob({ message: 'simulated: node lost', code: '40001' })
    const error = await failure(client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`))
    expect([error.code, error.message]).toEqual(['40001', 'simulated: node lost'])
    expect(await paths(client)).toEqual([])
  })

  it('cancels a running job and answers CANCEL JOB as CockroachDB does for other states', async () => {
    const emu = await emulator({ jobDurationMs: 5_000 })
    const client = await connect(emu)
    const { rows } = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    const jobId = rows[0].job_id as string
    const cancel = await client.query({ text: 'CANCEL JOB $1', values: [jobId] })
    expect(cancel.command).toBe('CANCEL')
    expect(emu.cluster.jobs.get(jobId)?.status).toBe('cancel-requested')
    await client.query(`CANCEL JOB ${jobId}`)
    const history = await pollJob(client, jobId)
    expect(history.at(-1)).toMatchObject({ status: 'canceled', error: '' })
    await client.query(`CANCEL JOB ${jobId}`)
    emu.setJobDuration(10)
    const done = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    const finished = await failure(client.query(`CANCEL JOB ${done.jobId}`))
    expect([finished.code, finished.message]).toEqual(['XXUUU', 'job with status succeeded cannot be requested to be canceled'])
    expect((await failure(client.query('CANCEL JOB 123'))).message).toBe('job with ID 123 does not exist')
  })

  it('ends a waiting BACKUP with "job canceled by user" when its job is canceled elsewhere', async () => {
    const emu = await emulator({ jobDurationMs: 5_000 })
    const waiting = (await connect(emu)).query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
    const other = await connect(emu)
    for (let i = 0; i < 100 && emu.cluster.jobs.size === 0; i++) await new Promise(r => setTimeout(r, 5))
    const [job] = [...emu.cluster.jobs.values()]
    await other.query(`CANCEL JOB ${job?.id}`)
    const error = await failure(waiting)
    expect(error.message).toBe('job canceled by user')
  })

  it('keeps a job running when connections drop, and pauses jobs on request', async () => {
    const emu = await emulator({ jobDurationMs: 150 })
    const client = await connect(emu)
    client.on('error', () => undefined)
    const { rows } = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    emu.pauseJobs()
    emu.dropConnections()
    await new Promise(r => setTimeout(r, 250))
    const jobId = rows[0].job_id as string
    expect(emu.cluster.jobs.get(jobId)?.status).toBe('running')
    emu.resumeJobs()
    const again = await connect(emu)
    expect((await pollJob(again, jobId)).at(-1)?.status).toBe('succeeded')
    expect(await paths(again)).toHaveLength(1)
  })

  it('slows every statement down with setQueryDelay', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    emu.setQueryDelay(150)
    const started = Date.now()
    await client.query('SELECT 1')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })
})

describe('network controls', () => {
  const refused = (port: number): Promise<string> =>
    new Promise(resolve => {
      const socket = net.connect(port, '127.0.0.1')
      socket.on('connect', () => {
        socket.destroy()
        resolve('connected')
      })
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    })

  it('refuses TCP connections for a while, then listens on the same port again', async () => {
    const emu = await emulator()
    const back = emu.refuseConnectionsFor(200)
    expect(await refused(emu.port)).toBe('ECONNREFUSED')
    await back
    expect(await refused(emu.port)).toBe('connected')
    const client = await connect(emu)
    expect((await client.query('SELECT 1')).rows).toHaveLength(1)
  })

  it('can start late on a port chosen beforehand', async () => {
    const port = await reserveEmulatorPort()
    expect(await refused(port)).toBe('ECONNREFUSED')
    const emu = await emulator({ port })
    expect(emu.port).toBe(port)
    expect((await (await connect(emu)).query('SELECT current_user')).rows).toEqual([{ current_user: 'root' }])
  })

  it('leaves no sockets or timers behind after close()', async () => {
    const count = (): number =>
      process.getActiveResourcesInfo().filter(r => r === 'TCPServerWrap' || r === 'TCPSocketWrap' || r === 'Timeout').length
    // Let sockets of earlier tests finish closing before taking the baseline.
    await new Promise(r => setTimeout(r, 50))
    const before = count()
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 10_000 })
    emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const client = new pg.Client({ connectionString: emu.connectionString() })
    client.on('error', () => undefined)
    await client.connect()
    await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    void emu.refuseConnectionsFor(60_000)
    expect(count()).toBeGreaterThan(before)
    await emu.close()
    await new Promise(r => setTimeout(r, 20))
    expect(count()).toBeLessThanOrEqual(before)
    expect(emu.connectionCount).toBe(0)
    expect(await refused(emu.port)).toBe('ECONNREFUSED')
  })
})

describe('userfile writes and RESTORE', () => {
  const FILES = 'defaultdb.public.userfiles_root_upload_files'
  const PAYLOAD = 'defaultdb.public.userfiles_root_upload_payload'

  it('stores a Buffer parameter (sent in binary format) byte for byte, and sums it back', async () => {
    const client = await connect(await emulator())
    await client.query(`SHOW BACKUPS IN '${COLLECTION}'`) // creates the tables, as CockroachDB does
    const id = '11111111-2222-4333-8444-555555555555'
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256))
    await client.query(`INSERT INTO ${FILES} (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)`, [
      '/x/f',
      id,
      bytes.length,
      'root'
    ])
    await client.query(`INSERT INTO ${PAYLOAD} (file_id, byte_offset, payload) VALUES ($1, $2, $3)`, [id, 0, bytes])
    const totals = await client.query(
      `SELECT count(*) AS chunks, COALESCE(sum(length(payload)), 0) AS bytes FROM ${PAYLOAD} WHERE file_id = $1`,
      [id]
    )
    expect(totals.rows).toEqual([{ chunks: '1', bytes: String(bytes.length) }])
    expect(totals.fields.map(f => f.dataTypeID)).toEqual([20, 1700])
    const back = await client.query(
      `SELECT byte_offset, encode(payload, 'base64') AS payload FROM ${PAYLOAD} WHERE file_id = $1 AND byte_offset >= $2 ORDER BY byte_offset LIMIT 1`,
      [id, 0]
    )
    expect(Buffer.from(back.rows[0].payload as string, 'base64').equals(bytes)).toBe(true)
    const duplicate = await failure(
      client.query(`INSERT INTO ${FILES} (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)`, ['/x/f', 'other', 1, 'root'])
    )
    expect(duplicate.code).toBe('23505')
    const orphan = await failure(
      client.query(`INSERT INTO ${PAYLOAD} (file_id, byte_offset, payload) VALUES ($1, $2, $3)`, ['no-such-file', 0, bytes])
    )
    expect(orphan.code).toBe('23503')
    expect((await client.query(`UPDATE ${FILES} SET filename = $1 WHERE file_id = $2`, ['/x/g', id])).rowCount).toBe(1)
    expect((await client.query(`DELETE FROM ${PAYLOAD} WHERE file_id = $1`, [id])).rowCount).toBe(1)
  })

  it('restores a backup under a new name, and refuses an existing database with 42P04', async () => {
    const emu = await emulator()
    emu.createDatabase('bank', { accounts: { rows: 12, bytes: 1200 } })
    const client = await connect(emu)
    const { rows } = await client.query<{ job_id: string }>(
      `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
    )
    await pollJob(client, rows[0]!.job_id)
    const [path] = await paths(client)
    const exists = await failure(client.query(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached`))
    expect([exists.code, exists.message]).toEqual(['42P04', 'database "bank" already exists'])
    const restore = await client.query<{ job_id: string }>(
      `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached, new_db_name = 'bank2'`
    )
    const history = await pollJob(client, restore.rows[0]!.job_id)
    expect(history.at(-1)?.status).toBe('succeeded')
    expect(emu.cluster.databases.get('bank2')?.schemas.get('public')?.get('accounts')).toMatchObject({ rows: 12, bytes: 1200 })
    const found = await client.query(`SELECT database_name FROM [SHOW DATABASES] WHERE database_name = $1`, ['bank2'])
    expect(found.rows).toEqual([{ database_name: 'bank2' }])
    await client.query('DROP DATABASE bank2 CASCADE')
    expect(emu.cluster.databases.has('bank2')).toBe(false)
    expect((await failure(client.query('DROP DATABASE bank2 CASCADE'))).code).toBe('3D000')
  })
})

describe('session variables and the crdb_internal restriction', () => {
  const HINT =
    'These interfaces are unsupported in production. To proceed, set the session variable allow_unsafe_internals = true (not recommended), or contact Cockroach Labs for a supported alternative.'

  it.each(['v26.1', 'v26.2'] as const)('%s refuses crdb_internal and system with 42501 and the exact hint', async profile => {
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
      ['v26.2', 'use_backups_with_ids', true]
    ]
    for (const [profile, variable, exists] of cases) {
      const client = await connect(await emulator({ profile }))
      const result = client.query(`SET ${variable} = false`)
      if (exists) await result
      else expect(await failure(result)).toMatchObject({ code: '42704', message: `unrecognized configuration parameter "${variable}"` })
    }
  })

  it('v26.2 lists id, backup_time, revision_start_time when a role default turns use_backups_with_ids on', async () => {
    const emu = await emulator({ profile: 'v26.2' })
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
  })
})

describe('profiles', () => {
  it('builds each profile as the one before it plus named changes (v25.3: none modelled)', () => {
    const ignored = new Set(['name', 'versionString'])
    const changes = PROFILE_NAMES.slice(1).map((name, i) => {
      const before = PROFILES[PROFILE_NAMES[i]!] as unknown as Record<string, unknown>
      const after = PROFILES[name] as unknown as Record<string, unknown>
      const changed = Object.keys(after).filter(key => !ignored.has(key) && JSON.stringify(after[key]) !== JSON.stringify(before[key]))
      return [name, changed] as const
    })
    for (const [name, changed] of changes) {
      if (name === 'v25.3') expect(changed, name).toEqual([])
      else expect(changed.length, name).toBeGreaterThan(0)
    }
    expect(Object.fromEntries(changes)['v24.3']).toEqual(['enterpriseFeaturesNeedLicence'])
  })

  it('reports the version it plays in version()', async () => {
    for (const profile of ['v22.1', 'v25.3', 'v26.2'] as const) {
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
      else expect(await failure(query)).toMatchObject({ code: '42601', message: 'at or near "check_files": syntax error' })
    }
  })

  it('writes a backup index entry per layer from v25.4 only', async () => {
    for (const [profile, entries] of [
      ['v25.3', 0],
      ['v25.4', 2]
    ] as const) {
      const emu = await emulator({ profile, now: () => new Date() })
      const client = await connect(emu)
      await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
      await client.query(`BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}'`)
      const names = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')?.files.map(f => f.filename) ?? []
      const index = names.filter(name => name.startsWith('/bank-backup/metadata/index/'))
      expect(index, profile).toHaveLength(entries)
      for (const name of index)
        expect(name).toMatch(
          /^\/bank-backup\/metadata\/index\/\d{4}-\d{2}-\d{2}-\d{6}\.\d{2}\/\d+_(0|\d{8}-\d{6}\.\d{2})_\d{8}-\d{6}\.\d{2}_metadata\.pb$/
        )
    }
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
