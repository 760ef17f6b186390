// Test PKI made with the openssl CLI (3.0+, for `req -CA`) at test time, so no
// key material is committed and nothing expires between runs.
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { onProcessExit, type TlsMaterial } from './postgres.js'

const run = promisify(execFile)

export interface CertificateFiles {
  cert: string
  key: string
  certPath: string
  keyPath: string
}

export interface TestCertificates {
  dir: string
  ca: CertificateFiles
  /** A CA that signed nothing here, for "wrong CA" tests. */
  otherCa: CertificateFiles
  /** For DNS:localhost and IP:127.0.0.1, signed by `ca`. */
  server: CertificateFiles
  /** Signed by `ca` but only for DNS:wrong.example. */
  wrongNameServer: CertificateFiles
  /** A client certificate with CN=`user`, signed by `ca`. */
  clientCert(user: string): Promise<CertificateFiles>
  /** What startPostgres({ tls }) needs: the given server certificate plus `ca` for client certificates. */
  serverTls(server?: CertificateFiles): TlsMaterial
  remove(): Promise<void>
}

interface CertificateSpec {
  name: string
  commonName: string
  extensions: string[]
  issuer?: CertificateFiles
}

const CA_EXTENSIONS = ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign']

function leafExtensions(usage: 'serverAuth' | 'clientAuth', subjectAltName?: string): string[] {
  const extensions = ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', `extendedKeyUsage = ${usage}`]
  return subjectAltName ? [...extensions, `subjectAltName = ${subjectAltName}`] : extensions
}

export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pg-harness-certs-'))
  const forgetExitCleanup = onProcessExit(() => rmSync(dir, { recursive: true, force: true }))
  const issue = (spec: CertificateSpec): Promise<CertificateFiles> => issueCertificate(dir, spec)
  const ca = await issue({ name: 'ca', commonName: 'Harness Test CA', extensions: CA_EXTENSIONS })
  const [otherCa, server, wrongNameServer] = await Promise.all([
    issue({ name: 'other-ca', commonName: 'Unrelated Test CA', extensions: CA_EXTENSIONS }),
    issue({ name: 'server', commonName: 'localhost', extensions: leafExtensions('serverAuth', 'DNS:localhost,IP:127.0.0.1'), issuer: ca }),
    issue({ name: 'wrong-name', commonName: 'wrong.example', extensions: leafExtensions('serverAuth', 'DNS:wrong.example'), issuer: ca })
  ])
  let clientCount = 0
  return {
    dir,
    ca,
    otherCa,
    server,
    wrongNameServer,
    clientCert: async user => {
      assertConfigSafe(user)
      clientCount += 1
      return issue({ name: `client-${clientCount}-${user}`, commonName: user, extensions: leafExtensions('clientAuth'), issuer: ca })
    },
    serverTls: (pair = server) => ({ cert: pair.cert, key: pair.key, ca: ca.cert }),
    remove: async () => {
      forgetExitCleanup()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

async function issueCertificate(dir: string, spec: CertificateSpec): Promise<CertificateFiles> {
  const configPath = path.join(dir, `${spec.name}.cnf`)
  const certPath = path.join(dir, `${spec.name}.crt`)
  const keyPath = path.join(dir, `${spec.name}.key`)
  await writeFile(configPath, opensslConfig(spec))
  // A self-contained config keeps the system openssl.cnf's defaults (e.g. CA:true on every -x509) out.
  const args = [
    'req',
    '-x509',
    '-new',
    '-config',
    configPath,
    '-days',
    '2',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-keyout',
    keyPath,
    '-out',
    certPath
  ]
  if (spec.issuer) args.push('-CA', spec.issuer.certPath, '-CAkey', spec.issuer.keyPath)
  await run('openssl', args)
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')])
  return { cert, key, certPath, keyPath }
}

function opensslConfig(spec: CertificateSpec): string {
  return [
    '[req]',
    'prompt = no',
    'distinguished_name = dn',
    'x509_extensions = ext',
    '[dn]',
    `CN = ${spec.commonName}`,
    '[ext]',
    ...spec.extensions,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    ''
  ].join('\n')
}

function assertConfigSafe(user: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(user)) {
    throw new Error(`clientCert: user name ${JSON.stringify(user)} must match [A-Za-z0-9_.-]+`)
  }
}
