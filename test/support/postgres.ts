// Throwaway real PostgreSQL servers for tests: one fresh cluster per call, on a
// random 127.0.0.1 port, removed again by stop(), when the test process exits or
// is signalled, or by a watchdog if the process is killed outright.
import { execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statfsSync } from 'node:fs'
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)

const SERVER_HOST = '127.0.0.1'
const SUPERUSER = 'postgres'
const SERVER_OS_USER = 'postgres'
const PG_ROOT = '/usr/lib/postgresql'
const SHM = '/dev/shm'
const SHM_MIN_FREE_BYTES = 1024 ** 3
const START_ATTEMPTS = 3
const EXIT_CLEANUP_BUDGET_MS = 400

/** PEM text. `ca` is the CA that client certificates must chain to. */
export interface TlsMaterial {
  cert: string
  key: string
  ca?: string
}

export interface StartOptions {
  tls?: TlsMaterial
  /**
   * Over TLS, every role except the superuser must log in with a client
   * certificate whose CN is the role name. The superuser keeps password auth,
   * so query() and url() go on working. Needs `tls.ca`.
   */
  clientCertAuth?: boolean
}

export interface UrlOptions {
  user?: string
  password?: string
  database?: string
  sslmode?: string
}

export interface PostgresServer {
  readonly host: string
  readonly port: number
  readonly superuser: string
  readonly password: string
  readonly dataDir: string
  url(opts?: UrlOptions): string
  /** Runs one statement as the superuser over a fresh plain-TCP connection. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>
  /** Terminates every other client backend and waits for them to exit; returns how many. */
  terminateBackends(): Promise<number>
  restart(): Promise<void>
  /** Idempotent. Stops the server at once and deletes its files. */
  stop(): Promise<void>
}

interface Cluster {
  base: string
  dataDir: string
  binDir: string
  watchdog?: number
}

const liveClusters = new Set<Cluster>()

export async function startPostgres(opts: StartOptions = {}): Promise<PostgresServer> {
  if (opts.clientCertAuth && !opts.tls?.ca) {
    throw new Error('clientCertAuth needs tls.ca to verify client certificates')
  }
  const cluster = await createClusterDir()
  try {
    const password = randomBytes(18).toString('base64url')
    await initCluster(cluster, password)
    await writeTlsFiles(cluster, opts.tls)
    await writeFile(path.join(cluster.dataDir, 'pg_hba.conf'), hbaConf(opts.clientCertAuth === true))
    const port = await startOnFreePort(cluster, opts.tls !== undefined)
    const server = serverHandle(cluster, port, password)
    await server.query('SELECT 1')
    return server
  } catch (error) {
    // The start failure is the error worth reporting; destroyCluster still removes the files.
    await destroyCluster(cluster).catch(() => undefined)
    throw error
  }
}

/**
 * `PG_BIN` when set (a folder with postgres, initdb and pg_ctl, e.g. Homebrew's), else Debian's
 * newest installed major version, so CI images with 16 or 17 work too.
 */
export function postgresBinDir(environment: NodeJS.ProcessEnv = process.env): string {
  const given = environment['PG_BIN']
  if (given) {
    if (!existsSync(path.join(given, 'postgres'))) throw new Error(`PG_BIN=${given} holds no postgres server binary.`)
    return given
  }
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter(v => /^\d+$/.test(v)) : []
  const newest = versions
    .sort((a, b) => Number(b) - Number(a))
    .map(v => path.join(PG_ROOT, v, 'bin'))
    .find(dir => existsSync(path.join(dir, 'postgres')))
  if (!newest) {
    throw new Error(
      `No PostgreSQL server found: these tests start a throwaway PostgreSQL server (15 or later), and none is under ${PG_ROOT}/*/bin. ` +
        "On Debian or Ubuntu run 'bash .ci/install-postgres.sh' (it runs apt-get install postgresql openssl). " +
        "Elsewhere install your system's PostgreSQL server package (e.g. 'brew install postgresql@16' or 'dnf install postgresql-server') " +
        'and set PG_BIN to the folder that holds its postgres, initdb and pg_ctl.'
    )
  }
  return newest
}

/**
 * Runs `cleanup` synchronously when the process exits or gets SIGINT, SIGTERM
 * or SIGHUP (vitest ends its fork workers with SIGTERM, which skips 'exit').
 * Returns a function that unregisters it.
 */
export function onProcessExit(cleanup: () => void): () => void {
  installExitHooks()
  exitCleanups.add(cleanup)
  return () => exitCleanups.delete(cleanup)
}

function serverHandle(cluster: Cluster, port: number, password: string): PostgresServer {
  const connection = { host: SERVER_HOST, port, user: SUPERUSER, password, database: 'postgres', ssl: false }
  const query = async (sql: string, params?: unknown[]): Promise<pg.QueryResult> => {
    const client = new pg.Client(connection)
    await client.connect()
    try {
      return await client.query(sql, params)
    } finally {
      await client.end()
    }
  }
  return {
    host: SERVER_HOST,
    port,
    superuser: SUPERUSER,
    password,
    dataDir: cluster.dataDir,
    url: opts => buildUrl(port, password, opts),
    query,
    terminateBackends: async () => {
      // The two-argument form (PostgreSQL 14+) waits until each backend has exited.
      const result = await query(
        `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`
      )
      return result.rows.length
    },
    restart: () => pgCtl(cluster, ['-m', 'fast', 'restart']),
    stop: () => destroyCluster(cluster)
  }
}

function buildUrl(port: number, superPassword: string, opts: UrlOptions = {}): string {
  const user = opts.user ?? SUPERUSER
  // Another role must not silently inherit the superuser's password.
  const password = opts.password ?? (user === SUPERUSER ? superPassword : undefined)
  const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`
  const database = encodeURIComponent(opts.database ?? 'postgres')
  const query = opts.sslmode === undefined ? '' : `?sslmode=${encodeURIComponent(opts.sslmode)}`
  return `postgresql://${auth}@${SERVER_HOST}:${port}/${database}${query}`
}

async function createClusterDir(): Promise<Cluster> {
  const base = await mkdtemp(path.join(clusterParentDir(), 'pg-harness-'))
  const cluster: Cluster = { base, dataDir: path.join(base, 'data'), binDir: postgresBinDir() }
  liveClusters.add(cluster)
  onProcessExit(destroyLiveClustersSync)
  cluster.watchdog = spawnWatchdog(cluster)
  await giveToServerUser(base)
  return cluster
}

/** tmpfs makes initdb about three times faster; Docker's default 64 MB /dev/shm is too small for it. */
function clusterParentDir(): string {
  try {
    const { bavail, bsize } = statfsSync(SHM)
    if (bavail * bsize >= SHM_MIN_FREE_BYTES) return SHM
  } catch {
    // No /dev/shm on this system.
  }
  return os.tmpdir()
}

async function initCluster(cluster: Cluster, password: string): Promise<void> {
  const pwfile = path.join(cluster.base, 'pwfile')
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 })
  await giveToServerUser(pwfile)
  await asServerUser(cluster, path.join(cluster.binDir, 'initdb'), [
    '-D',
    cluster.dataDir,
    '-U',
    SUPERUSER,
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions'
  ])
  await rm(pwfile)
  const conf = path.join(cluster.dataDir, 'postgresql.conf')
  await writeFile(conf, `${await readFile(conf, 'utf8')}\ninclude 'harness.conf'\n`)
}

async function writeTlsFiles(cluster: Cluster, tls: TlsMaterial | undefined): Promise<void> {
  if (!tls) return
  const files: Array<[string, string | undefined]> = [
    ['server.crt', tls.cert],
    ['server.key', tls.key],
    ['root.crt', tls.ca]
  ]
  for (const [name, pem] of files) {
    if (pem === undefined) continue
    const file = path.join(cluster.dataDir, name)
    // PostgreSQL refuses a key file that is readable by group or others.
    await writeFile(file, pem, { mode: 0o600 })
    await giveToServerUser(file)
  }
}

function hbaConf(clientCertAuth: boolean): string {
  const lines = [`host all ${SUPERUSER} ${SERVER_HOST}/32 scram-sha-256`]
  if (clientCertAuth) lines.push(`hostssl all all ${SERVER_HOST}/32 cert`)
  lines.push(`host all all ${SERVER_HOST}/32 scram-sha-256`)
  return `${lines.join('\n')}\n`
}

function harnessConf(cluster: Cluster, port: number, tls: boolean): string {
  const settings: Record<string, string> = {
    listen_addresses: `'${SERVER_HOST}'`,
    port: String(port),
    unix_socket_directories: `'${cluster.base}'`,
    password_encryption: "'scram-sha-256'",
    // Durability is pointless for a cluster that is deleted after the test.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off'
  }
  if (tls) {
    Object.assign(settings, { ssl: 'on', ssl_cert_file: "'server.crt'", ssl_key_file: "'server.key'" })
    if (existsSync(path.join(cluster.dataDir, 'root.crt'))) settings.ssl_ca_file = "'root.crt'"
  }
  return Object.entries(settings)
    .map(([key, value]) => `${key} = ${value}\n`)
    .join('')
}

async function startOnFreePort(cluster: Cluster, tls: boolean): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    await writeFile(path.join(cluster.dataDir, 'harness.conf'), harnessConf(cluster, port, tls))
    try {
      await pgCtl(cluster, ['start'])
      return port
    } catch (error) {
      // Another process may have taken the port between probe and bind.
      const portTaken = /could not bind|already in use/i.test(await serverLog(cluster))
      if (!portTaken || attempt >= START_ATTEMPTS) throw error
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, SERVER_HOST, () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

async function pgCtl(cluster: Cluster, args: string[]): Promise<void> {
  // -l is needed on every start: without it the postmaster inherits pg_ctl's
  // stdout pipe and execFile never sees it close.
  const logFile = path.join(cluster.base, 'server.log')
  try {
    await asServerUser(cluster, path.join(cluster.binDir, 'pg_ctl'), ['-D', cluster.dataDir, '-l', logFile, '-w', '-t', '30', ...args])
  } catch (error) {
    throw new Error(`pg_ctl ${args.join(' ')} failed: ${errorText(error)}\n--- server log ---\n${await serverLog(cluster)}`)
  }
}

async function serverLog(cluster: Cluster): Promise<string> {
  return readFile(path.join(cluster.base, 'server.log'), 'utf8').catch(() => '')
}

/** PostgreSQL refuses to run as root, so root hands the work to the postgres OS user. */
async function asServerUser(cluster: Cluster, command: string, args: string[]): Promise<void> {
  const [file, argv] = isRoot() ? ['runuser', ['-u', SERVER_OS_USER, '--', command, ...args]] : [command, args]
  await run(file, argv, { cwd: cluster.base })
}

function isRoot(): boolean {
  return process.getuid?.() === 0
}

let serverUserIds: Promise<{ uid: number; gid: number }> | undefined

async function giveToServerUser(file: string): Promise<void> {
  if (!isRoot()) return
  serverUserIds ??= lookUpServerUser()
  const { uid, gid } = await serverUserIds
  await chown(file, uid, gid)
}

async function lookUpServerUser(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('getent', ['passwd', SERVER_OS_USER])
  const [, , uid, gid] = stdout.trim().split(':')
  if (uid === undefined || gid === undefined) throw new Error(`No ${SERVER_OS_USER} OS user`)
  return { uid: Number(uid), gid: Number(gid) }
}

async function destroyCluster(cluster: Cluster): Promise<void> {
  if (!liveClusters.delete(cluster)) return
  try {
    if (existsSync(pidFile(cluster))) await pgCtl(cluster, ['-m', 'immediate', 'stop'])
  } finally {
    stopWatchdog(cluster)
    await rm(cluster.base, { recursive: true, force: true, maxRetries: 3 })
  }
}

/** The process is going away: shut every server down at once, within a small time budget. */
function destroyLiveClustersSync(): void {
  const clusters = [...liveClusters]
  clusters.forEach(signalImmediateShutdown)
  const deadline = Date.now() + EXIT_CLEANUP_BUDGET_MS
  for (const cluster of clusters) {
    while (existsSync(pidFile(cluster)) && Date.now() < deadline) sleepSync(10)
    // A server still shutting down is left to its watchdog rather than deleted under it.
    if (existsSync(pidFile(cluster))) continue
    liveClusters.delete(cluster)
    stopWatchdog(cluster)
    rmSync(cluster.base, { recursive: true, force: true, maxRetries: 3 })
  }
}

function signalImmediateShutdown(cluster: Cluster): void {
  try {
    const pid = Number(readFileSync(pidFile(cluster), 'utf8').split('\n')[0])
    if (pid > 0) process.kill(pid, 'SIGQUIT')
  } catch {
    // No server running (yet, or any more).
  }
}

function pidFile(cluster: Cluster): string {
  return path.join(cluster.dataDir, 'postmaster.pid')
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Nothing runs in a process killed with SIGKILL (vitest does that 500 ms after
 * SIGTERM), and the postmaster detaches into its own session, so a tiny shell
 * outlives us to stop the server (SIGQUIT = immediate shutdown) and delete its files.
 */
const WATCHDOG_SCRIPT = `
while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e "$2/postmaster.pid" ] || break; sleep 0.1; done
rm -rf "\${2%/*}"
`

function spawnWatchdog(cluster: Cluster): number | undefined {
  const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'pg-harness-watchdog', String(process.pid), cluster.dataDir], {
    detached: true,
    stdio: 'ignore'
  })
  child.unref()
  return child.pid
}

function stopWatchdog(cluster: Cluster): void {
  if (cluster.watchdog === undefined) return
  try {
    process.kill(cluster.watchdog)
  } catch {
    // Already gone.
  }
  cluster.watchdog = undefined
}

const exitCleanups = new Set<() => void>()
let exitHooksInstalled = false

function installExitHooks(): void {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  process.once('exit', runExitCleanups)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runExitCleanups()
      // Die the default way unless someone else has taken charge of this signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

function runExitCleanups(): void {
  for (const cleanup of exitCleanups) {
    try {
      cleanup()
    } catch {
      // Best effort: the process is going away and the watchdogs catch the rest.
    }
  }
  exitCleanups.clear()
}

function errorText(error: unknown): string {
  if (error instanceof Error && 'stderr' in error && typeof error.stderr === 'string' && error.stderr) {
    return error.stderr.trim()
  }
  return error instanceof Error ? error.message : String(error)
}
