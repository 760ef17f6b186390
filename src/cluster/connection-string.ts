/**
 * The `connection-string` input turned into node-postgres options. The URL is parsed here rather
 * than handed to `pg`, because `pg` reads `sslmode` differently from libpq and treats `sslrootcert`
 * and friends as file paths that replace any `ssl` object (see TOOLCHAIN.md); users write libpq's
 * meaning, so that is what they get.
 */
import * as nodeTls from 'node:tls'
import type { ConnectionOptions } from 'node:tls'
import { APPLICATION_NAME, Inputs } from '../base/constants.js'
import { InputError } from '../base/errors.js'
import { userInfoPassword } from '../base/uri-secrets.js'
import { readPem, type TlsMaterial } from './tls.js'

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']

export interface ConnectionSettings {
  host: string
  port: number
  user: string
  password: string | undefined
  database: string
  sslMode: SslMode
  /** PEM text: from the ca-cert / client-cert / client-key inputs, or the files the URL's sslrootcert / sslcert / sslkey name. */
  tls: TlsMaterial
  applicationName: string
  options: string | undefined
}

const DEFAULT_PORT = 26257
const PASSED_THROUGH = new Set(['application_name', 'options'])
const TLS_FILES = new Set(['sslrootcert', 'sslcert', 'sslkey'])
/** libpq 16's `sslrootcert=system`: CockroachDB Cloud's console gives connection strings with it. */
const SYSTEM_ROOTS = 'system'

/**
 * The operating system's trusted CAs with Node's own, as PEM text (Node 22.15+/23.9+ can read the
 * system's store). Without that, undefined: Node then verifies against its bundled Mozilla CAs,
 * which hold the same public CAs.
 */
export function systemCertificates(tls: { getCACertificates?: (type: 'default' | 'system') => string[] } = nodeTls): string | undefined {
  if (tls.getCACertificates === undefined) return undefined
  return [...tls.getCACertificates('default'), ...tls.getCACertificates('system')].join('\n')
}

function fail(detail: string): never {
  throw new InputError(Inputs.ConnectionString, detail)
}

/**
 * Only the password is secret, and it must be found without ever echoing the string. Like the URL
 * parser that reads it for connecting, this takes the authority up to the first / ? or #, and the
 * user info up to the last @ in it, so a raw @ inside a password is masked whole.
 */
export function connectionStringSecrets(raw: string): string[] {
  return userInfoPassword(raw.trim())
}

export function parseConnectionString(raw: string): ConnectionSettings {
  const text = raw.trim()
  if (!/^postgres(ql)?:\/\//i.test(text)) {
    fail('must be a URL starting with postgresql:// (for example postgresql://root@localhost:26257/defaultdb?sslmode=disable).')
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail('is not a valid URL (the value is not shown because it may contain a password).')
  }
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part)
    } catch {
      fail(`its ${what} has a malformed %-escape.`)
    }
  }
  const user = decode(url.username, 'user name') || 'root'
  const password = url.password === '' ? undefined : decode(url.password, 'password')
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost'
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port)
  const database = decode(url.pathname.replace(/^\//, ''), 'database') || 'defaultdb'

  const params = url.searchParams
  const systemRoots = params.get('sslrootcert') === SYSTEM_ROOTS
  // libpq 16+: with sslrootcert=system the default sslmode is verify-full, and a weaker one is an error.
  const sslModeText = params.get('sslmode') ?? (systemRoots ? 'verify-full' : 'prefer')
  if (!SSL_MODES.includes(sslModeText as SslMode)) {
    fail(`sslmode=${sslModeText} is not one of ${SSL_MODES.join(', ')}.`)
  }
  if (systemRoots && sslModeText !== 'verify-full') {
    fail(
      `sslrootcert=system (the system's trusted CAs) needs sslmode=verify-full, as in libpq: any certificate a public CA issued for a host name would pass sslmode=${sslModeText}.`
    )
  }
  for (const key of params.keys()) {
    if (key !== 'sslmode' && !PASSED_THROUGH.has(key) && !TLS_FILES.has(key)) {
      fail(
        `the parameter ${JSON.stringify(key)} is not supported (supported: sslmode, sslrootcert, sslcert, sslkey, application_name, options).`
      )
    }
  }
  return {
    host,
    port,
    user,
    password,
    database,
    sslMode: sslModeText as SslMode,
    tls: {
      ca: systemRoots ? systemCertificates() : readPem(`${Inputs.ConnectionString} (sslrootcert)`, params.get('sslrootcert') ?? undefined),
      cert: readPem(`${Inputs.ConnectionString} (sslcert)`, params.get('sslcert') ?? undefined),
      key: readPem(`${Inputs.ConnectionString} (sslkey)`, params.get('sslkey') ?? undefined)
    },
    applicationName: params.get('application_name') ?? APPLICATION_NAME,
    options: params.get('options') ?? undefined
  }
}

/** host:port as user, for messages (never the password). */
export function describeServer(settings: ConnectionSettings): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host
  return `${host}:${settings.port} as ${settings.user}`
}

export type SslOption = false | ConnectionOptions

/** What libpq does for each sslmode, as an ordered list of attempts (prefer/allow fall back). */
export function sslAttempts(settings: ConnectionSettings): SslOption[] {
  const { ca, cert, key } = settings.tls
  const client = { ...(cert ? { cert } : {}), ...(key ? { key } : {}) }
  const unverified: ConnectionOptions = { ...client, rejectUnauthorized: false }
  const verifyCa: ConnectionOptions = { ...client, ...(ca ? { ca } : {}), rejectUnauthorized: true, checkServerIdentity: () => undefined }
  const verifyFull: ConnectionOptions = { ...client, ...(ca ? { ca } : {}), rejectUnauthorized: true, servername: settings.host }
  const byMode: Record<SslMode, SslOption[]> = {
    disable: [false],
    allow: [false, unverified],
    prefer: [unverified, false],
    // libpq: with a root certificate given, require behaves as verify-ca.
    require: [ca ? verifyCa : unverified],
    'verify-ca': [verifyCa],
    'verify-full': [verifyFull]
  }
  return byMode[settings.sslMode]
}
