/**
 * sslmode means what libpq says it means, against a real PostgreSQL serving TLS with certificates
 * made for this run: verify-full checks the CA and the host name, verify-ca only the CA, require
 * neither, prefer falls back to plaintext, and client certificates authenticate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConnectionString, type ConnectionSettings } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { ActionError } from '../../src/base/errors.js'
import { getInputs } from '../../src/backup/inputs.js'
import { createTestCertificates, type TestCertificates } from '../support/certs.js'
import { startPostgres, type PostgresServer } from '../support/postgres.js'

let certs: TestCertificates
let tlsServer: PostgresServer
let wrongNameServer: PostgresServer
let plainServer: PostgresServer

beforeAll(async () => {
  certs = await createTestCertificates()
  ;[tlsServer, wrongNameServer, plainServer] = await Promise.all([
    startPostgres({ tls: certs.serverTls(), clientCertAuth: true }),
    startPostgres({ tls: certs.serverTls(certs.wrongNameServer) }),
    startPostgres()
  ])
  await tlsServer.query('CREATE ROLE deployer LOGIN')
}, 60_000)

afterAll(async () => {
  await Promise.all([tlsServer?.stop(), wrongNameServer?.stop(), plainServer?.stop()])
  await certs?.remove()
})

function settingsFor(server: PostgresServer, sslmode: string, host = '127.0.0.1'): ConnectionSettings {
  const url = new URL(server.url({ sslmode }))
  url.hostname = host
  return parseConnectionString(url.toString())
}

async function connect(settings: ConnectionSettings): Promise<Session> {
  return Session.open(settings, { waitTimeoutMs: 2000 })
}

async function usesTls(session: Session): Promise<boolean> {
  const rows = await session.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [], 'checking TLS')
  return rows[0]?.ssl === true
}

describe('sslmode against a TLS server', () => {
  it('verify-full succeeds with the right CA and host name', async () => {
    const session = await connect({
      ...settingsFor(tlsServer, 'verify-full', 'localhost'),
      tls: { ca: certs.ca.cert, cert: undefined, key: undefined }
    })
    try {
      expect(await usesTls(session)).toBe(true)
    } finally {
      await session.close()
    }
  })

  it('verify-full fails with another CA, and says to check the certificate', async () => {
    const attempt = connect({
      ...settingsFor(tlsServer, 'verify-full', 'localhost'),
      tls: { ca: certs.otherCa.cert, cert: undefined, key: undefined }
    })
    await expect(attempt).rejects.toThrow(ActionError)
    await expect(attempt).rejects.toThrow(/self-signed certificate in certificate chain[\s\S]*Hint: Check sslrootcert/)
  })

  it("sslrootcert=system checks the server against the system's CAs, which do not hold a private CA", async () => {
    const url = new URL(tlsServer.url({ sslmode: 'verify-full' }))
    url.hostname = 'localhost'
    url.searchParams.set('sslrootcert', 'system')
    await expect(connect(parseConnectionString(url.toString()))).rejects.toThrow(/self-signed certificate in certificate chain/)
  })

  it('verify-full fails when the certificate names another host', async () => {
    const attempt = connect({
      ...settingsFor(wrongNameServer, 'verify-full', 'localhost'),
      tls: { ca: certs.ca.cert, cert: undefined, key: undefined }
    })
    await expect(attempt).rejects.toThrow(/Hostname\/IP does not match certificate's altnames/)
  })

  it('verify-ca accepts a certificate for another host name but still checks the CA', async () => {
    const ok = await connect({
      ...settingsFor(wrongNameServer, 'verify-ca', 'localhost'),
      tls: { ca: certs.ca.cert, cert: undefined, key: undefined }
    })
    await ok.close()
    await expect(
      connect({
        ...settingsFor(wrongNameServer, 'verify-ca', 'localhost'),
        tls: { ca: certs.otherCa.cert, cert: undefined, key: undefined }
      })
    ).rejects.toThrow(/certificate/)
  })

  it('require encrypts without checking the certificate (libpq without a root certificate)', async () => {
    const session = await connect(settingsFor(wrongNameServer, 'require'))
    try {
      expect(await usesTls(session)).toBe(true)
    } finally {
      await session.close()
    }
  })

  it('require with a root certificate behaves as verify-ca, as in libpq', async () => {
    await expect(
      connect({ ...settingsFor(tlsServer, 'require'), tls: { ca: certs.otherCa.cert, cert: undefined, key: undefined } })
    ).rejects.toThrow(/certificate/)
  })

  it('prefer uses TLS when the server offers it', async () => {
    const session = await connect(settingsFor(tlsServer, 'prefer'))
    try {
      expect(await usesTls(session)).toBe(true)
    } finally {
      await session.close()
    }
  })

  it('authenticates with a client certificate given as PEM inputs', async () => {
    const client = await certs.clientCert('deployer')
    const inputs = getInputs(
      name =>
        ({
          'connection-string': `postgresql://deployer@localhost:${tlsServer.port}/postgres?sslmode=verify-full`,
          database: 'bank',
          'ca-cert': certs.ca.cert,
          'client-cert': client.cert,
          'client-key': client.key
        })[name],
      () => undefined
    )
    const session = await connect(inputs.connection)
    try {
      expect(session.info.user).toBe('deployer')
      expect(await usesTls(session)).toBe(true)
    } finally {
      await session.close()
    }
  })

  it('reads the certificates from files named by the inputs or by sslrootcert/sslcert/sslkey', async () => {
    const client = await certs.clientCert('deployer')
    const url = `postgresql://deployer@localhost:${tlsServer.port}/postgres?sslmode=verify-full&sslrootcert=${certs.ca.certPath}&sslcert=${client.certPath}&sslkey=${client.keyPath}`
    const session = await connect(parseConnectionString(url))
    await session.close()
    const inputs = getInputs(
      name => ({ 'connection-string': url.replace(/&sslrootcert=[^&]*/, ''), database: 'bank', 'ca-cert': certs.ca.certPath })[name],
      () => undefined
    )
    expect(inputs.connection.tls.ca).toBe(certs.ca.cert)
  })

  it('refuses the same certificate both as an input and in the URL', () => {
    const read = (name: string): string | undefined =>
      ({
        'connection-string': `postgresql://root@localhost/db?sslrootcert=${certs.ca.certPath}`,
        database: 'bank',
        'ca-cert': certs.ca.cert
      })[name]
    expect(() => getInputs(read, () => undefined)).toThrow(
      /Input 'ca-cert': give it either here or as sslrootcert in connection-string, not both/
    )
  })
})

describe('sslmode against a server without TLS', () => {
  it('prefer falls back to plaintext', async () => {
    const session = await connect(settingsFor(plainServer, 'prefer'))
    try {
      expect(await usesTls(session)).toBe(false)
    } finally {
      await session.close()
    }
  })

  it('require fails at once, with the hint to use sslmode=disable', async () => {
    const started = Date.now()
    await expect(connect(settingsFor(plainServer, 'require'))).rejects.toThrow(
      /The server does not support SSL connections[\s\S]*sslmode=disable/
    )
    expect(Date.now() - started).toBeLessThan(1500)
  })

  it('disable connects in plaintext', async () => {
    const session = await connect(settingsFor(plainServer, 'disable'))
    try {
      expect(await usesTls(session)).toBe(false)
    } finally {
      await session.close()
    }
  })
})

describe('passwords', () => {
  it('fails at once with 28P01 and a hint on a wrong password', async () => {
    const url = new URL(plainServer.url({ sslmode: 'disable' }))
    url.password = 'wrong'
    await expect(connect(parseConnectionString(url.toString()))).rejects.toThrow(
      /password authentication failed for user "postgres" \(SQLSTATE 28P01\)[\s\S]*Hint: Check the user name and password/
    )
  })
})
