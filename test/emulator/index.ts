/**
 * startEmulator(): a CockroachDB look-alike on 127.0.0.1 for tests, spoken to with the real `pg`
 * driver. See README.md in this folder for what it models and where each fact comes from.
 */
import net from 'node:net'
import { writeForeignBackup } from './backup.js'
import { compactBackup } from './compaction.js'
import {
  addDatabase,
  createCluster,
  recordWrite,
  sizeAsOf,
  type Cluster,
  type DatabaseModel,
  type TableModel,
  type TableSize
} from './cluster.js'
import { CrdbError } from './errors.js'
import { JobRegistry, type JobFailure } from './jobs.js'
import { PROFILES, type ProfileName, type VersionProfile } from './profiles.js'
import { CockroachHandler, sessionVariableDefaults, type EmulatorState, type ResultTamper, type StatementLogEntry } from './session.js'
import { WireServer } from './wire-server.js'
import type { TlsConfig } from './wire.js'

export type { Cluster, DatabaseModel, Job, JobStatus, TableModel, TableSize, UserfileRow, PayloadRow, UserfileTables } from './cluster.js'
export type { ProfileName, VersionProfile } from './profiles.js'
export type { ResultTamper, StatementLogEntry } from './session.js'
export type { TlsConfig } from './wire.js'
export type { JobFailure } from './jobs.js'
export { PROFILES, PROFILE_NAMES } from './profiles.js'
export { USERFILE_CHUNK_BYTES, defaultUserfilePrefix } from './storage.js'
export { manifestChecksum } from './manifest.js'

export interface EmulatorOptions {
  /** Which CockroachDB version to play; default v23.2. */
  profile?: ProfileName
  /** Turns on password authentication (like a secure cluster); without it any user gets in (`--insecure`). */
  users?: Record<string, string>
  /** Accept SSLRequest and upgrade to TLS; without it SSLRequest is refused with 'N'. */
  tls?: TlsConfig
  /** The cluster clock; default the real one. */
  now?: () => Date
  /** How long a BACKUP job runs; default 100 ms. */
  jobDurationMs?: number
  /** Listen on this port (0 or absent: a free one). */
  port?: number
  /** Whether an enterprise licence is installed; default true (checked only where the profile needs one). */
  licensed?: boolean
}

export interface Emulator {
  readonly host: string
  readonly port: number
  readonly profile: VersionProfile
  readonly cluster: Cluster
  /** Every statement received, redacted. */
  readonly statements: StatementLogEntry[]
  connectionString(user?: string, password?: string, database?: string): string
  /**
   * Adds a database. With `createdAt`, it and its tables were created then (a backup as of an
   * earlier time fails to resolve it); without, they have existed since before any time asked about.
   */
  createDatabase(name: string, tables: Record<string, TableSize>, options?: { createdAt?: Date }): DatabaseModel
  /** A write committed at `at` (default now) leaves `database`'s table (`table` or `schema.table`) at `size`. */
  writeRows(database: string, table: string, size: TableSize, at?: Date): void
  /**
   * A view `view` (or `schema.view`) in `database`: a table descriptor without data of its own,
   * whose query returns `rows` rows (SHOW BACKUP lists it as a table with 0 rows).
   */
  createView(database: string, view: string, rows: number): void
  /**
   * `rows` rows of the table deleted at `at` (default now; calls in time order, as with writeRows):
   * the table shrinks, and until the GC TTL passes `at`, a revision-history backup still exports
   * their tombstones and prior values.
   */
  deleteRows(database: string, table: string, rows: number, at?: Date): void
  /** Closes the listening socket now (ECONNREFUSED) and listens on the same port again after `ms`; resolves then. */
  refuseConnectionsFor(ms: number): Promise<void>
  /** The next BACKUP job ends `failed` with this error (SQLSTATE `code`, default XXUUU, for a waiting statement). */
  failNextJob(failure: JobFailure): void
  setJobDuration(ms: number): void
  /** From now on, statements whose text matches `pattern` fail with this error (SQLSTATE `code`) instead of running. */
  refuseStatements(pattern: RegExp, message: string, code: string, hint?: string): void
  /** cluster_logical_timestamp() answers this far ahead of the clock BACKUP is checked against (another node, behind a pooler). */
  setClockReadingLead(ms: number): void
  /** The next RESTORE job fails with this error when it completes. */
  failNextRestore(failure: JobFailure): void
  /** The next RESTORE creates `schema.table` with this many rows fewer than the backup holds. */
  loseRowsOnNextRestore(table: string, rows: number): void
  /**
   * Every statement (or only those matching `matching`, as sent) waits this long before it runs;
   * with `{ answer: true }` it runs at once and only its answer waits.
   */
  setQueryDelay(ms: number, matching?: RegExp, options?: { answer?: boolean }): void
  /**
   * Statements matching `matching` fail as a syntax error whose detail echoes the statement, string
   * literals included, as CockroachDB's syntax errors do (undefined turns it off).
   */
  rejectAsSyntaxError(matching: RegExp | undefined): void
  /**
   * A hostile cluster: every non-null value of every result passes through `tamper` (with its
   * column's name) on its way out; undefined turns it off. The cluster's own state is unchanged.
   */
  tamperResults(tamper: ResultTamper | undefined): void
  /** Running jobs stop advancing (status stays running) until resumeJobs(). */
  pauseJobs(): void
  /** The running jobs are paused as PAUSE JOB would: their status becomes paused and they stop advancing. */
  pauseJob(): void
  resumeJobs(): void
  /** Another writer's full backup of the user databases appears in `collection`; returns its folder. */
  addConcurrentBackup(collection: string, endTime?: Date): string
  /**
   * v25.3+: what a scheduled chain's compaction job leaves: one more layer of `fullFolder` spanning
   * all its incrementals (from the first one's start to the last one's end). Returns its folder.
   */
  compactBackup(collection: string, fullFolder: string, options?: { passphrase?: string }): string
  /**
   * `ALTER ROLE ALL SET name = value`, as an operator would: sessions opened afterwards start with it.
   * Throws for a variable this version does not have.
   */
  setRoleDefault(name: string, value: string): void
  /** `REVOKE CONNECT ON DATABASE name FROM public`: from v22.2 SHOW DATABASES hides it from users other than root. */
  revokeConnect(database: string): void
  /**
   * From now on, every statement matching `matching` after the first `skip` of them loses its
   * connection half-way through its rows (the rest and the command tag never come), as a connection
   * killed mid-answer would; undefined turns it off.
   */
  cutConnectionsMidAnswer(matching: RegExp | undefined, skip?: number): void
  /** Destroys every live connection; jobs keep running. */
  dropConnections(): void
  readonly connectionCount: number
  close(): Promise<void>
}

const HOST = '127.0.0.1'

const everyStatementLog: StatementLogEntry[][] = []

/** Every statement any emulator started in this test file received (for checks across a whole file). */
export function statementsReceivedByAllEmulators(): StatementLogEntry[] {
  return everyStatementLog.flat()
}

/** A port that was free a moment ago, for starting the emulator late with `startEmulator({ port })`. */
export async function reserveEmulatorPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, resolve)
  })
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => resolve()))
  if (typeof address !== 'object' || !address) throw new Error('no port reserved')
  return address.port
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const profile = PROFILES[options.profile ?? 'v23.2']
  const cluster = createCluster(profile, options.now ?? (() => new Date()))
  cluster.licensed = options.licensed ?? true
  const passwords = options.users ? new Map(Object.entries(options.users)) : undefined
  for (const user of passwords?.keys() ?? []) cluster.users.set(user, passwords?.get(user))
  const jobs = new JobRegistry(cluster, options.jobDurationMs ?? 100)
  const state: EmulatorState = { cluster, jobs, passwords, statements: [], queryDelayMs: 0, refusals: [] }
  everyStatementLog.push(state.statements)
  const wire = new WireServer({ host: HOST, handler: new CockroachHandler(state), tls: options.tls })
  const port = await wire.listen(options.port ?? 0)
  let relisten: { timer: NodeJS.Timeout; resolve: () => void } | undefined
  let foreignJobs = 0n

  return {
    host: HOST,
    port,
    profile,
    cluster,
    statements: state.statements,
    connectionString(user = 'root', password?: string, database = 'defaultdb') {
      const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`
      return `postgresql://${auth}@${HOST}:${port}/${encodeURIComponent(database)}?sslmode=disable`
    },
    createDatabase: (name, tables, options) => addDatabase(cluster, name, tables, options?.createdAt?.getTime()),
    writeRows(database, table, size, at) {
      recordWrite(tableModel(cluster, database, table, 'writeRows'), size, (at ?? cluster.now()).getTime())
    },
    createView(database, view, rows) {
      const [schema = 'public', name = view] = view.includes('.') ? view.split('.', 2) : []
      const tables = cluster.databases.get(database)?.schemas.get(schema)
      if (!tables) throw new Error(`createView: no schema ${schema} in ${database}`)
      tables.set(name, { rows, bytes: 0, kind: 'view' })
    },
    deleteRows(database, table, rows, at) {
      const model = tableModel(cluster, database, table, 'deleteRows')
      const atMs = (at ?? cluster.now()).getTime()
      const before = sizeAsOf(model, atMs)
      recordWrite(model, { rows: Math.max(0, before.rows - rows), bytes: before.bytes }, atMs)
      model.deletions = [...(model.deletions ?? []), { atMs, rows, bytes: 0 }]
    },
    refuseConnectionsFor(ms) {
      wire.stopListening()
      if (relisten) clearTimeout(relisten.timer)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          relisten = undefined
          wire.listen(port).then(() => resolve(), reject)
        }, ms)
        timer.unref()
        relisten = { timer, resolve }
      })
    },
    failNextJob: failure => jobs.failNextJob(failure),
    failNextRestore(failure) {
      cluster.restoreFaults.failure = failure
    },
    loseRowsOnNextRestore(table, rows) {
      cluster.restoreFaults.lostRows.set(table, rows)
    },
    setJobDuration(ms) {
      jobs.durationMs = ms
    },
    refuseStatements(pattern, message, code, hint) {
      state.refusals.push({ matches: sql => pattern.test(sql), error: new CrdbError(message, code, undefined, hint) })
    },
    setClockReadingLead(ms) {
      cluster.clockReadingLeadMs = ms
    },
    setQueryDelay(ms, matching, options) {
      state.queryDelayMs = ms
      state.queryDelayMatching = matching
      state.queryDelayAfter = options?.answer
    },
    cutConnectionsMidAnswer(matching, skip = 0) {
      state.cutMidAnswer = matching === undefined ? undefined : { matching, skip }
    },
    rejectAsSyntaxError(matching) {
      state.rejectSyntax = matching
    },
    tamperResults(tamper) {
      state.tamper = tamper
    },
    pauseJobs() {
      jobs.paused = true
    },
    resumeJobs() {
      jobs.paused = false
    },
    pauseJob() {
      jobs.paused = true
      for (const job of cluster.jobs.values()) if (job.status === 'running') job.status = 'paused'
    },
    addConcurrentBackup(collection, endTime) {
      foreignJobs++
      return writeForeignBackup(cluster, collection, (endTime ?? cluster.now()).getTime(), String(870000000000000000n + foreignJobs))
    },
    compactBackup(collection, fullFolder, options) {
      foreignJobs++
      return compactBackup(cluster, collection, fullFolder, String(880000000000000000n + foreignJobs), options?.passphrase)
    },
    setRoleDefault(name, value) {
      if (!sessionVariableDefaults(profile).has(name)) throw new Error(`${profile.name} has no session variable ${name}`)
      cluster.roleDefaults.set(name, value)
    },
    revokeConnect(database) {
      cluster.connectRevoked.add(database)
    },
    dropConnections: () => wire.dropConnections(),
    get connectionCount() {
      return wire.connectionCount
    },
    async close() {
      if (relisten) {
        clearTimeout(relisten.timer)
        relisten.resolve()
      }
      jobs.stop()
      await wire.close()
    }
  }
}

/** A test fixture's table, `table` or `schema.table`, or a plain error naming the control. */
function tableModel(cluster: Cluster, database: string, table: string, control: string): TableModel {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table]
  const model = cluster.databases
    .get(database)
    ?.schemas.get(schema ?? 'public')
    ?.get(name ?? '')
  if (!model) throw new Error(`${control}: no table ${table} in ${database}`)
  return model
}
