import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg, { type ClientConfig } from 'pg'
import { createTestCertificates, type CertificateFiles, type TestCertificates } from './support/certs.js'
import { postgresBinDir, startPostgres, type PostgresServer } from './support/postgres.js'

async function withClient<T>(config: ClientConfig, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config)
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

async function connectError(config: ClientConfig): Promise<Error & { code?: string }> {
  const client = new pg.Client(config)
  try {
    await client.connect()
  } catch (error) {
    if (error instanceof Error) return error
    throw error
  }
  await client.end()
  throw new Error('expected the connection to be refused')
}

function tcp(server: PostgresServer, config: ClientConfig = {}): ClientConfig {
  return { host: server.host, port: server.port, user: server.superuser, password: server.password, database: 'postgres', ...config }
}

function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter(entry => /^\d+$/.test(entry))
    .filter(pid => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)
      } catch {
        return false // exited while we looked
      }
    })
    .map(Number)
}

function rejectAfter(ms: number, reason: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(reason)), ms).unref())
}

/** A zombie is not running; PID 1 here reaps orphans only about once a second. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

let certs: TestCertificates

beforeAll(async () => {
  certs = await createTestCertificates()
})

afterAll(async () => {
  await certs?.remove()
})

describe('finding the server binaries', () => {
  it('takes PG_BIN when it holds a postgres binary, and says what is wrong when it does not', () => {
    const found = postgresBinDir({})
    expect(postgresBinDir({ PG_BIN: found })).toBe(found)
    expect(() => postgresBinDir({ PG_BIN: '/nonexistent/pg/bin' })).toThrow('PG_BIN=/nonexistent/pg/bin holds no postgres server binary.')
  })
})

describe('plain server', () => {
  it('starts and stops quickly, has no TLS, and leaves nothing behind', async () => {
    const startedAt = performance.now()
    const server = await startPostgres()
    const startMs = performance.now() - startedAt

    const tlsError = await connectError(tcp(server, { ssl: { ca: certs.ca.cert, servername: 'localhost' } }))
    expect(tlsError.message).toMatch(/does not support SSL/)
    const postmasterPid = Number(readFileSync(`${server.dataDir}/postmaster.pid`, 'utf8').split('\n')[0])
    expect(isRunning(postmasterPid)).toBe(true)
    expect(processesMentioning(server.dataDir)).toContain(postmasterPid)

    const stoppingAt = performance.now()
    await server.stop()
    const stopMs = performance.now() - stoppingAt

    expect(startMs).toBeLessThan(3000)
    expect(stopMs).toBeLessThan(1500)
    expect(isRunning(postmasterPid)).toBe(false)
    expect(processesMentioning(server.dataDir)).toEqual([]) // neither postmaster nor watchdog
    expect(existsSync(server.dataDir)).toBe(false)
    expect((await connectError(tcp(server))).message).toMatch(/ECONNREFUSED/)
    await server.stop() // idempotent
  })
})

describe('server with TLS and client-certificate auth', () => {
  let server: PostgresServer
  const verifyFull = (ca: CertificateFiles = certs.ca, servername = 'localhost') => ({ ca: ca.cert, servername })

  beforeAll(async () => {
    server = await startPostgres({ tls: certs.serverTls(), clientCertAuth: true })
    await server.query('CREATE ROLE alice LOGIN')
    await server.query("CREATE ROLE bob LOGIN PASSWORD 'bob-secret'")
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('listens on 127.0.0.1 only and exposes its settings', async () => {
    expect(server.host).toBe('127.0.0.1')
    const { rows } = await server.query("SELECT current_setting('listen_addresses') AS listen, current_setting('port') AS port")
    expect(rows[0]).toEqual({ listen: '127.0.0.1', port: String(server.port) })
  })

  it('accepts the superuser password and url()', async () => {
    const user = await withClient({ connectionString: server.url() }, async c => (await c.query('SELECT current_user AS u')).rows[0])
    expect(user).toEqual({ u: server.superuser })
  })

  it('accepts a role password given to url() and does not lend it the superuser password', async () => {
    const bobUrl = server.url({ user: 'bob', password: 'bob-secret', sslmode: 'disable' })
    expect(bobUrl).toBe(`postgresql://bob:bob-secret@127.0.0.1:${server.port}/postgres?sslmode=disable`)
    const user = await withClient({ connectionString: bobUrl }, async c => (await c.query('SELECT current_user AS u')).rows[0])
    expect(user).toEqual({ u: 'bob' })
    expect(server.url({ user: 'bob' })).not.toContain(server.password)
  })

  it('rejects a wrong password with SQLSTATE 28P01', async () => {
    const error = await connectError(tcp(server, { password: 'not-the-password' }))
    expect(error).toBeInstanceOf(pg.DatabaseError)
    expect(error.code).toBe('28P01')
  })

  it('passes verify-full with the right CA and host name', async () => {
    const ssl = await withClient(
      tcp(server, { ssl: verifyFull() }),
      async c => (await c.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]
    )
    expect(ssl).toEqual({ ssl: true })
  })

  it('verifies the IP address SAN when no server name is given', async () => {
    await expect(withClient(tcp(server, { ssl: { ca: certs.ca.cert } }), c => c.query('SELECT 1'))).resolves.toBeDefined()
  })

  it('fails verification against an unrelated CA', async () => {
    const error = await connectError(tcp(server, { ssl: verifyFull(certs.otherCa) }))
    // The server sends its CA along when it has one (ssl_ca_file), hence "in chain".
    expect(error.code).toBe('SELF_SIGNED_CERT_IN_CHAIN')
  })

  it('fails verification for a host name the certificate does not name', async () => {
    const error = await connectError(tcp(server, { ssl: verifyFull(certs.ca, 'db.example') }))
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
  })

  it('logs a role in by client certificate', async () => {
    const alice = await certs.clientCert('alice')
    const ssl = { ...verifyFull(), cert: alice.cert, key: alice.key }
    const user = await withClient(
      tcp(server, { user: 'alice', password: undefined, ssl }),
      async c => (await c.query('SELECT current_user AS u')).rows[0]
    )
    expect(user).toEqual({ u: 'alice' })
  })

  it("refuses a role over TLS without a certificate, or with another role's certificate", async () => {
    const withoutCert = await connectError(tcp(server, { user: 'alice', password: undefined, ssl: verifyFull() }))
    expect(withoutCert.code).toBe('28000')

    const bob = await certs.clientCert('bob')
    const withBobsCert = await connectError(
      tcp(server, { user: 'alice', password: undefined, ssl: { ...verifyFull(), cert: bob.cert, key: bob.key } })
    )
    expect(withBobsCert.code).toBe('28000')
  })

  it('terminateBackends kills a live connection', async () => {
    const client = new pg.Client(tcp(server))
    await client.connect()
    const errors: unknown[] = []
    // pg emits a second error ("Connection terminated unexpectedly") that must not go unhandled.
    client.on('error', error => errors.push(error))
    const killed = once(client, 'error')

    expect(await server.terminateBackends()).toBeGreaterThanOrEqual(1)

    const [error]: unknown[] = await Promise.race([killed, rejectAfter(3000, 'the client saw no error')])
    expect(error).toMatchObject({ code: '57P01' })
    await expect(client.query('SELECT 1')).rejects.toThrow()
    expect(errors.length).toBeGreaterThanOrEqual(1)
  })

  it('restart keeps data, port and password', async () => {
    await server.query('CREATE TABLE survives (n int)')
    await server.query('INSERT INTO survives VALUES (42)')
    await server.restart()
    const { rows } = await server.query('SELECT n FROM survives')
    expect(rows).toEqual([{ n: 42 }])
  })
})

describe('server whose certificate names another host', () => {
  let server: PostgresServer

  beforeAll(async () => {
    server = await startPostgres({ tls: certs.serverTls(certs.wrongNameServer) })
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('fails verify-full for localhost but passes for the name it carries', async () => {
    const error = await connectError(tcp(server, { ssl: { ca: certs.ca.cert, servername: 'localhost' } }))
    expect(error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')

    const ok = await withClient(tcp(server, { ssl: { ca: certs.ca.cert, servername: 'wrong.example' } }), c => c.query('SELECT 1 AS one'))
    expect(ok.rows).toEqual([{ one: 1 }])
  })
})

describe('certificates', () => {
  it('refuses a client user name that cannot go into an openssl config safely', async () => {
    await expect(certs.clientCert('a\nCN = root')).rejects.toThrow(/must match/)
  })
})
