/**
 * src/cluster/connection-string.ts: the connection-string input read the libpq way, and never echoed; plus
 * sslAttempts from src/cluster/connection.ts, which turns an sslmode into node-postgres TLS attempts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APPLICATION_NAME } from '../../src/base/constants.js'
import {
  connectionStringSecrets,
  describeServer,
  parseConnectionString,
  type ConnectionSettings
} from '../../src/cluster/connection-string.js'
import { sslAttempts, systemCertificates } from '../../src/cluster/connection-string.js'
import { expectInputError } from '../support/input-error.js'

const CA = '-----BEGIN CERTIFICATE-----\nTUlJQ2Zha2VDQQ==\n-----END CERTIFICATE-----\n'
const CERT = '-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n'
const KEY = '-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n'
let dir: string
let caPath: string
let certPath: string
let keyPath: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'connection-string-'))
  caPath = join(dir, 'ca.crt')
  certPath = join(dir, 'client.crt')
  keyPath = join(dir, 'client.key')
  writeFileSync(caPath, CA)
  writeFileSync(certPath, CERT)
  writeFileSync(keyPath, KEY)
  writeFileSync(join(dir, 'not-pem.txt'), 'just text')
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function refusal(raw: string): string {
  return expectInputError(() => parseConnectionString(raw), JSON.stringify(raw)).message
}

describe('parseConnectionString', () => {
  it('reads every part of a full URL, and the PEM files it names', () => {
    const q = (path: string): string => encodeURIComponent(path)
    const settings = parseConnectionString(
      `postgresql://backup:s3cret@db.example.com:26258/bank?sslmode=verify-full&sslrootcert=${q(caPath)}&sslcert=${q(certPath)}&sslkey=${q(keyPath)}&application_name=ci&options=-c%20statement_timeout%3D0`
    )
    expect(settings).toEqual<ConnectionSettings>({
      host: 'db.example.com',
      port: 26258,
      user: 'backup',
      password: 's3cret',
      database: 'bank',
      sslMode: 'verify-full',
      tls: { ca: CA, cert: CERT, key: KEY },
      applicationName: 'ci',
      options: '-c statement_timeout=0'
    })
  })

  it('names the TLS parameter whose file it cannot use, without echoing the connection string', () => {
    const missing = refusal(
      `postgresql://root:hunter2@localhost/db?sslmode=verify-full&sslrootcert=${encodeURIComponent(join(dir, 'missing.crt'))}`
    )
    expect(missing).toMatch(/^Input 'connection-string \(sslrootcert\)': is neither PEM text nor a readable file/)
    expect(missing).not.toContain('hunter2')
    const notPem = refusal(`postgresql://root@localhost/db?sslmode=verify-full&sslkey=${encodeURIComponent(join(dir, 'not-pem.txt'))}`)
    expect(notPem).toMatch(/^Input 'connection-string \(sslkey\)': names a file that holds no PEM block/)
  })

  it('fills in libpq and CockroachDB defaults: port 26257, defaultdb, root, sslmode prefer', () => {
    expect(parseConnectionString('postgresql://db.example.com')).toMatchObject({
      host: 'db.example.com',
      port: 26257,
      user: 'root',
      password: undefined,
      database: 'defaultdb',
      sslMode: 'prefer',
      tls: { ca: undefined, cert: undefined, key: undefined },
      applicationName: APPLICATION_NAME,
      options: undefined
    })
    expect(parseConnectionString('postgres://root@localhost/')).toMatchObject({
      host: 'localhost',
      database: 'defaultdb',
      sslMode: 'prefer'
    })
  })

  it('accepts postgres:// and ignores surrounding space', () => {
    expect(parseConnectionString('  postgres://root@localhost:26257/defaultdb?sslmode=disable \n')).toMatchObject({
      host: 'localhost',
      sslMode: 'disable'
    })
  })

  it('reads an IPv6 host without its brackets', () => {
    expect(parseConnectionString('postgresql://root@[::1]:26257/defaultdb')).toMatchObject({ host: '::1', port: 26257 })
    expect(parseConnectionString('postgresql://root@[2001:db8::5]/defaultdb')).toMatchObject({ host: '2001:db8::5', port: 26257 })
  })

  it('decodes a percent-encoded user, password and database', () => {
    const settings = parseConnectionString('postgresql://ci%2Dbot%40corp:p%40ss%2Fw%3Ard@localhost/my%20db')
    expect(settings).toMatchObject({ user: 'ci-bot@corp', password: 'p@ss/w:rd', database: 'my db' })
    expect(connectionStringSecrets('postgresql://ci%2Dbot%40corp:p%40ss%2Fw%3Ard@localhost/my%20db')).toEqual([
      'p%40ss%2Fw%3Ard',
      'p@ss/w:rd'
    ])
  })

  it.each(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'])('accepts sslmode=%s', mode => {
    expect(parseConnectionString(`postgresql://root@localhost/defaultdb?sslmode=${mode}`).sslMode).toBe(mode)
  })

  it('refuses another sslmode, listing the ones it knows', () => {
    expect(refusal('postgresql://root@localhost/defaultdb?sslmode=on')).toMatch(
      /^Input 'connection-string': sslmode=on is not one of disable, allow, prefer, require, verify-ca, verify-full/
    )
  })

  it('refuses an unsupported parameter without showing the password', () => {
    const message = refusal('postgresql://root:hunter2@localhost/defaultdb?sslmode=disable&connect_timeout=10')
    expect(message).toMatch(/^Input 'connection-string': the parameter "connect_timeout" is not supported/)
    expect(message).not.toContain('hunter2')
    expect(refusal('postgresql://root@localhost/defaultdb?password=hunter2')).not.toContain('hunter2')
  })

  it.each([
    'postgresql://root:hunter2@localhost:notaport/defaultdb',
    'postgresql://root:hunter2@localhost:99999/defaultdb',
    'postgresql://root:hunter2@[::1/defaultdb',
    'postgresql://root:hunter2@local host/defaultdb',
    'postgresql://root:hunter2@/defaultdb'
  ])('refuses the malformed %s without showing the password', raw => {
    const message = refusal(raw)
    expect(message).toMatch(/^Input 'connection-string': /)
    expect(message).not.toContain('hunter2')
  })

  it.each(['root:hunter2@localhost:26257/defaultdb', 'mysql://root:hunter2@localhost/db', 'host=localhost password=hunter2'])(
    'refuses %s (not a postgresql:// URL) without showing it',
    raw => {
      const message = refusal(raw)
      expect(message).toMatch(/^Input 'connection-string': must be a URL starting with postgresql:\/\//)
      expect(message).not.toContain('hunter2')
    }
  )

  it('refuses malformed %-escapes, naming the part but not the value', () => {
    expect(refusal('postgresql://root:hunt%zzer2@localhost/db')).toMatch(/password has a malformed %-escape/)
    expect(refusal('postgresql://root:hunt%zzer2@localhost/db')).not.toContain('hunt')
    expect(refusal('postgresql://r%zz@localhost/db')).toMatch(/user name has a malformed %-escape/)
    expect(refusal('postgresql://root@localhost/d%zz')).toMatch(/database has a malformed %-escape/)
  })
})

describe('connectionStringSecrets', () => {
  it.each<[string, string[]]>([
    ['postgresql://root:hunter2@localhost/db', ['hunter2']],
    ['  postgresql://root:hunter2@localhost/db  ', ['hunter2']],
    ['postgresql://root:p%40ss@localhost/db', ['p%40ss', 'p@ss']],
    ['postgresql://root:hunt%zz@localhost/db', ['hunt%zz']],
    ['postgresql://root:@localhost/db', []],
    ['postgresql://root@localhost/db', []],
    ['postgresql://localhost/db', []],
    ['', []]
  ])('%j → %j', (raw, secrets) => {
    expect(connectionStringSecrets(raw)).toEqual(secrets)
  })

  it('finds the whole password even when it holds a raw @ (the URL parser splits at the last @)', () => {
    const raw = 'postgresql://root:p@ss@localhost/db'
    // node's URL (and so parseConnectionString) reads the password as p@ss and connects with it.
    expect(parseConnectionString(raw).password).toBe('p@ss')
    expect(connectionStringSecrets(raw)).toContain('p@ss')
  })
})

describe('describeServer', () => {
  it('shows host, port and user, bracketing IPv6, never the password', () => {
    const settings = parseConnectionString('postgresql://backup:hunter2@db.example.com:26258/bank')
    expect(describeServer(settings)).toBe('db.example.com:26258 as backup')
    expect(describeServer(parseConnectionString('postgresql://root:hunter2@[::1]/bank'))).toBe('[::1]:26257 as root')
  })
})

describe('sslAttempts', () => {
  const settings = (query: string, host = 'db.example.com'): ConnectionSettings =>
    parseConnectionString(`postgresql://root@${host}:26257/defaultdb?${query}`)

  /** Just enough of a peer certificate for node's host name check to reject a mismatch. */
  function certificateFor(host: string): PeerCertificate {
    const partial: Partial<PeerCertificate> = { subject: { CN: host, C: '', ST: '', L: '', O: '', OU: '' }, subjectaltname: `DNS:${host}` }
    return partial as PeerCertificate
  }

  function tls(option: false | ConnectionOptions | undefined): ConnectionOptions {
    if (option === false || option === undefined) throw new Error('expected a TLS attempt')
    return option
  }

  it('disable: plain only', () => {
    expect(sslAttempts(settings('sslmode=disable'))).toEqual([false])
  })

  it('allow: plain first, then unverified TLS', () => {
    const attempts = sslAttempts(settings('sslmode=allow'))
    expect(attempts).toHaveLength(2)
    expect(attempts[0]).toBe(false)
    expect(tls(attempts[1]).rejectUnauthorized).toBe(false)
  })

  it('prefer (also the default): unverified TLS first, then plain', () => {
    for (const query of ['sslmode=prefer', '']) {
      const attempts = sslAttempts(settings(query))
      expect(attempts).toHaveLength(2)
      expect(tls(attempts[0]).rejectUnauthorized).toBe(false)
      expect(attempts[1]).toBe(false)
    }
  })

  it('require without a root certificate: TLS, unverified, no fallback', () => {
    const attempts = sslAttempts(settings('sslmode=require'))
    expect(attempts).toHaveLength(1)
    expect(tls(attempts[0]).rejectUnauthorized).toBe(false)
    expect(tls(attempts[0]).ca).toBeUndefined()
  })

  it('require with sslrootcert behaves as verify-ca: the chain is checked, the host name is not', () => {
    const attempts = sslAttempts(settings(`sslmode=require&sslrootcert=${encodeURIComponent(caPath)}`))
    expect(attempts).toHaveLength(1)
    const option = tls(attempts[0])
    expect(option.rejectUnauthorized).toBe(true)
    expect(option.ca).toBe(CA)
    const certificate = certificateFor('db.example.com')
    expect(checkServerIdentity('wrong.example', certificate)).toBeInstanceOf(Error) // node's default check would refuse it
    expect(option.checkServerIdentity).toBeTypeOf('function')
    expect(option.checkServerIdentity?.('wrong.example', certificate)).toBeUndefined()
  })

  it('verify-ca: the given CA, chain checked, host name not checked', () => {
    const option = tls(sslAttempts(settings(`sslmode=verify-ca&sslrootcert=${encodeURIComponent(caPath)}`))[0])
    expect(option).toMatchObject({ ca: CA, rejectUnauthorized: true })
    expect(option.checkServerIdentity).toBeTypeOf('function')
    expect(option.checkServerIdentity?.('anything.example', certificateFor('db.example.com'))).toBeUndefined()
  })

  it('verify-full: the given CA, and node’s own host name check against the host', () => {
    const attempts = sslAttempts(settings(`sslmode=verify-full&sslrootcert=${encodeURIComponent(caPath)}`))
    expect(attempts).toHaveLength(1)
    const option = tls(attempts[0])
    expect(option).toMatchObject({ ca: CA, rejectUnauthorized: true, servername: 'db.example.com' })
    expect(option.checkServerIdentity).toBeUndefined()
  })

  it("sslrootcert=system (libpq 16, CockroachDB Cloud's connection strings) verifies the host against the system's CAs, verify-full by default", () => {
    const parsed = parseConnectionString(
      'postgresql://u:p@free-tier.gcp-us-central1.cockroachlabs.cloud:26257/defaultdb?sslrootcert=system'
    )
    expect(parsed.sslMode).toBe('verify-full')
    expect(parsed.tls.ca).toBe(systemCertificates())
    const option = tls(sslAttempts(parsed)[0])
    expect(option).toMatchObject({ rejectUnauthorized: true, servername: 'free-tier.gcp-us-central1.cockroachlabs.cloud' })
    expect(parseConnectionString('postgresql://u@h/db?sslmode=verify-full&sslrootcert=system').sslMode).toBe('verify-full')
  })

  it.each(['require', 'verify-ca', 'prefer', 'disable'])('refuses sslrootcert=system with sslmode=%s, as libpq does', mode => {
    expect(refusal(`postgresql://u:secret@h/db?sslmode=${mode}&sslrootcert=system`)).toContain(
      `sslrootcert=system (the system's trusted CAs) needs sslmode=verify-full, as in libpq`
    )
  })

  it("reads the system's CA store where Node can, and Node's bundled CAs elsewhere", () => {
    expect(systemCertificates({})).toBeUndefined()
    const store = { getCACertificates: (type: 'default' | 'system') => [`${type}-1`, `${type}-2`] }
    expect(systemCertificates(store)).toBe('default-1\ndefault-2\nsystem-1\nsystem-2')
  })

  it('verify-full without sslrootcert still verifies (against the system CAs)', () => {
    const option = tls(sslAttempts(settings('sslmode=verify-full'))[0])
    expect(option.rejectUnauthorized).toBe(true)
    expect(option.ca).toBeUndefined()
  })

  it('sends the client certificate and key in every TLS attempt', () => {
    const query = `sslcert=${encodeURIComponent(certPath)}&sslkey=${encodeURIComponent(keyPath)}`
    for (const mode of ['allow', 'prefer', 'require', 'verify-ca', 'verify-full']) {
      const attempts = sslAttempts(settings(`sslmode=${mode}&${query}`)).filter(a => a !== false)
      expect(attempts.length, mode).toBe(1)
      expect(attempts[0], mode).toMatchObject({ cert: CERT, key: KEY })
    }
  })
})
