/** The emulator's wire protocol, authentication and TLS, and the network controls tests use, through the real `pg` driver. */
import net from 'node:net'
import pg from 'pg'
import { createTestCertificates } from '../support/certs.js'
import { describe, expect, it } from 'vitest'
import { reserveEmulatorPort, startEmulator } from './index.js'
import { COLLECTION, emulator, connect, failure, JOB_STATUS, detachedBackup } from '../support/emulator-client.js'

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
