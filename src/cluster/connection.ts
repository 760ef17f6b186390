/**
 * The only module that talks to node-postgres: the readiness wait, and a Session whose queries fail
 * with what the action was doing (connect-policy.ts reads the errors).
 */
import pg from 'pg'
import { recycleLargeMessage } from 'pg-protocol/dist/parser.js'
import { connectHint, isRetriableConnectError, QueryError, SSL_REFUSED } from './connect-policy.js'
import { describeServer, sslAttempts, type ConnectionSettings, type SslOption } from './connection-string.js'
import { ActionError, CancelledError, abortReason, databaseErrorFields, describeError, unlessCancelled } from '../base/errors.js'
import { int8Text, uuidText } from './binary-values.js'
import * as sql from './sql/index.js'
import { pumpRows } from './row-stream.js'
import { sleep } from '../base/signals.js'
import { hasUseBackupsWithIds, parseVersion, type CockroachVersion } from './version.js'

/** What progress.ts watches: the statements a Session sends, and their rows. */
export interface QueryObserver {
  sent(text: string): void
  answered(text: string, rows: object[]): void
}

/** Timestamps stay as CockroachDB printed them: pg would read TIMESTAMP in the runner's local zone. */

export { isRetriableConnectError, QueryError }

const TIMESTAMP_OIDS = new Set([1114, 1184])
type Parser = (oid: number, format?: 'text' | 'binary') => (value: string) => unknown
const builtin = pg.types.getTypeParser as Parser
const keepText = (value: string): string => value
const types = {
  getTypeParser: ((oid, format) => (TIMESTAMP_OIDS.has(oid) ? keepText : builtin(oid, format))) as Parser
}

/**
 * How long any statement but the job itself may take: as long as the cluster was given to answer at
 * all (wait-timeout), at least 5 s. A hung server fails the step instead of hanging it.
 */
/**
 * Hands a binary value of a row larger than 256 KiB (a userfile chunk) back to the driver, whose
 * next large row reuses its memory (the carried pg-protocol patch): call it once nothing refers to
 * the value any more. Anything else is left alone.
 */
export function recycleBinaryValue(value: Buffer): void {
  recycleLargeMessage(value)
}

export function queryTimeoutFor(waitTimeoutMs: number): number {
  return Math.max(5_000, waitTimeoutMs)
}

/** node-postgres honours a per-query read timeout that @types/pg does not declare. */
export function timedQuery(text: string, values: unknown[], timeoutMs: number): pg.QueryConfig {
  const config: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: timeoutMs }
  return config
}
const CONNECT_ATTEMPT_TIMEOUT_MS = 5_000

function clientConfig(settings: ConnectionSettings, ssl: SslOption, connectTimeoutMs: number): pg.ClientConfig {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    ssl,
    application_name: settings.applicationName,
    ...(settings.options ? { options: settings.options } : {}),
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    types
  }
}

async function connectOnce(settings: ConnectionSettings, timeoutMs: number, signal?: AbortSignal): Promise<pg.Client> {
  const attempts = sslAttempts(settings)
  let lastError: unknown
  for (const [index, ssl] of attempts.entries()) {
    const client = new pg.Client(clientConfig(settings, ssl, timeoutMs))
    // An 'error' event on an idle client (the server went away) must not crash the process;
    // the next query on it fails and the session reconnects.
    client.on('error', () => undefined)
    try {
      await unlessCancelled(client.connect(), signal, `connecting to CockroachDB at ${describeServer(settings)}`, () => {
        void client.end().catch(() => undefined) // abandoned half-open connection
      })
      return client
    } catch (error) {
      if (error instanceof CancelledError) throw error
      lastError = error
      await client.end().catch(() => undefined) // already failed; closing is best effort
      const sslRefused = ssl !== false && databaseErrorFields(error).message === SSL_REFUSED
      const isLast = index === attempts.length - 1
      if (isLast || !(sslRefused || ssl === false)) break
    }
  }
  throw lastError
}

/**
 * A refused connection costs the cluster nothing, and the step should start the moment the
 * cluster does: retries stay at most 250 ms apart (bench/action-cost.ts measures how late it is).
 */
const MAX_RETRY_DELAY_MS = 250

export interface WaitOptions {
  waitTimeoutMs: number
  /** Aborted when the workflow is cancelled. */
  signal?: AbortSignal
  onRetry?: (attempt: number, error: unknown) => void
}

/** Connects, retrying with a short backoff while the cluster is still starting, until waitTimeoutMs. */
export async function connectWhenReady(settings: ConnectionSettings, options: WaitOptions): Promise<pg.Client> {
  const deadline = Date.now() + options.waitTimeoutMs
  let delayMs = 100
  for (let attempt = 1; ; attempt++) {
    const remainingMs = Math.max(0, deadline - Date.now())
    try {
      return await connectOnce(settings, Math.max(1000, Math.min(CONNECT_ATTEMPT_TIMEOUT_MS, remainingMs)), options.signal)
    } catch (error) {
      if (error instanceof CancelledError) throw error
      if (options.signal?.aborted) {
        throw new CancelledError(abortReason(options.signal), `connecting to CockroachDB at ${describeServer(settings)}`)
      }
      if (!isRetriableConnectError(error)) {
        throw new ActionError(
          `Could not connect to CockroachDB at ${describeServer(settings)}: ${describeError(error)}`,
          connectHint(error),
          { cause: error }
        )
      }
      if (Date.now() + delayMs > deadline) {
        const seconds = Math.round(options.waitTimeoutMs / 1000)
        throw new ActionError(
          `CockroachDB at ${describeServer(settings)} did not accept connections within wait-timeout (${seconds} s, ${attempt} attempt${attempt > 1 ? 's' : ''}). Last error: ${describeError(error)}`,
          'Check that the cluster was started (for a container: `start-single-node --insecure`), that the port is published, and raise wait-timeout if it is slow to start.',
          { cause: error }
        )
      }
      options.onRetry?.(attempt, error)
      await sleep(delayMs, options.signal)
      delayMs = Math.min(MAX_RETRY_DELAY_MS, Math.round(delayMs * 1.6))
    }
  }
}

export interface SessionInfo {
  user: string
  version: CockroachVersion | undefined
  versionText: string
}

type TypeParserLookup = pg.CustomTypesConfig['getTypeParser']

/** node-postgres' parsers, except that a binary bytea is kept as the bytes it is (its default would make a string of them), a binary UUID is read, and a binary INT8 is checked. */
const BINARY_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((...[oid, format]: Parameters<TypeParserLookup>): unknown => {
    if (format === 'binary' && oid === pg.types.builtins.BYTEA) return (value: Buffer): Buffer => value
    // A UUID's 16 bytes, written as text the way the text format does (node-postgres has no binary UUID parser).
    if (format === 'binary' && oid === pg.types.builtins.UUID) return uuidText
    if (format === 'binary' && oid === pg.types.builtins.INT8) return int8Text
    return pg.types.getTypeParser(oid, format) as unknown
  }) as TypeParserLookup
}

/** Session variables the action depends on, set on every connection it opens, over any role default or `options`. */
async function setUpSession(client: pg.Client, version: CockroachVersion | undefined, timeoutMs: number): Promise<void> {
  for (const statement of [sql.PIN_TIME_ZONE, sql.PIN_ISOLATION, ...(hasUseBackupsWithIds(version) ? [sql.LIST_BACKUPS_BY_PATH] : [])]) {
    try {
      await client.query(timedQuery(statement, [], timeoutMs))
    } catch (error) {
      throw new ActionError(`While running ${statement}: ${describeError(error)}`, undefined, { cause: error })
    }
  }
}

/** One connection to the cluster. Queries fail with an ActionError that says what was being done. */
export class Session {
  /** Set by the step: told of every statement query() sends and of its rows. */
  observer: QueryObserver | undefined

  private constructor(
    private client: pg.Client,
    private readonly settings: ConnectionSettings,
    readonly info: SessionInfo,
    private readonly queryTimeoutMs: number,
    /** Aborted when the workflow is cancelled: every query then gives up at once. */
    private readonly signal: AbortSignal | undefined
  ) {}

  static async open(settings: ConnectionSettings, options: WaitOptions): Promise<Session> {
    const client = await connectWhenReady(settings, options)
    try {
      const result = await unlessCancelled(
        client.query<{ current_user: string; version: string }>(timedQuery(sql.SESSION_INFO, [], queryTimeoutFor(options.waitTimeoutMs))),
        options.signal,
        'reading the session user and version'
      )
      const row = result.rows[0]
      if (!row) throw new ActionError('SELECT current_user, version() returned no row')
      const info = { user: row.current_user, version: parseVersion(row.version), versionText: row.version }
      await setUpSession(client, info.version, queryTimeoutFor(options.waitTimeoutMs))
      return new Session(client, settings, info, queryTimeoutFor(options.waitTimeoutMs), options.signal)
    } catch (error) {
      await client.end().catch(() => undefined) // the error below is what matters
      if (error instanceof ActionError) throw error
      throw new ActionError(`While reading the session user and version: ${describeError(error)}`, undefined, { cause: error })
    }
  }

  /**
   * Runs one statement. `doing` completes "while …" in the error message. On a timeout the
   * connection is dropped, since the statement may still be running on it.
   */
  async query<Row extends object>(text: string, params: unknown[], doing: string, timeoutMs = this.queryTimeoutMs): Promise<Row[]> {
    this.observer?.sent(text)
    const rows = await this.run<Row>(timedQuery(text, params, timeoutMs), doing, timeoutMs)
    this.observer?.answered(text, rows)
    return rows
  }

  /**
   * Streams the rows of one query to `onRow`, in order, one at a time, with every column in binary
   * result format: BYTES arrive as Buffers, INT8 as strings. It relies on the carried pg-protocol
   * patch (patches/, brianc/node-postgres#3495), without which binary fields are decoded as UTF-8;
   * and it needs parameters, since node-postgres sends parameterless statements over the simple
   * protocol, which has no binary results. Rows are pumped as row-stream.ts says: one at a time,
   * failing after `idleTimeoutMs` without a row, the connection closed after a failure.
   */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the row shape, as with query()
  async streamBinary<Row extends object>(
    text: string,
    params: unknown[],
    doing: string,
    idleTimeoutMs: number,
    onRow: (row: Row) => Promise<void>,
    /** Stops this query alone (and drops the connection), as the step's cancel would. */
    stop?: AbortSignal
  ): Promise<void> {
    if (params.length === 0) throw new Error('streamBinary needs parameters: the simple protocol has no binary results')
    const config: pg.QueryConfig & { binary: boolean } = { text, values: params, binary: true, types: BINARY_TYPES }
    const query = new pg.Query<Row>(config)
    const socket = this.client.connection.stream
    const client = this.client
    await pumpRows<Row>(query, socket, {
      doing,
      idleTimeoutMs,
      signal: stop === undefined || this.signal === undefined ? (stop ?? this.signal) : AbortSignal.any([this.signal, stop]),
      onRow,
      abandon: () => void client.end().catch(() => undefined),
      start: () => void client.query(query)
    })
  }

  private async run<Row extends object>(config: pg.QueryConfig, doing: string, timeoutMs: number): Promise<Row[]> {
    const client = this.client
    try {
      const result = await unlessCancelled(client.query<Row>(config), this.signal, doing, () => {
        // pg's end() destroys the socket when a query is active: nothing waits for the hung query.
        void client.end().catch(() => undefined)
      })
      return result.rows // rowCount is null for some CockroachDB command tags; rows is what counts
    } catch (error) {
      if (error instanceof CancelledError) throw error
      if (databaseErrorFields(error).message === 'Query read timeout') {
        await this.client.end().catch(() => undefined) // abandoned; the error below is what matters
        throw new QueryError(`While ${doing}: no answer within ${Math.round(timeoutMs / 1000)} s`, error, config.text)
      }
      throw new QueryError(`While ${doing}: ${describeError(error)}`, error, config.text)
    }
  }

  /** A fresh connection in place of a broken one (the job keeps running on the cluster). */
  async reconnect(options: WaitOptions): Promise<void> {
    await this.client.end().catch(() => undefined) // the old connection is already broken
    this.client = await connectWhenReady(this.settings, { ...options, signal: options.signal ?? this.signal })
    await setUpSession(this.client, this.info.version, this.queryTimeoutMs)
  }

  /**
   * A second session on a fresh connection, set up as this one is. By default no cancel interrupts
   * it, for undoing what this one did after the workflow was cancelled (this one's connection may be
   * gone or stuck); `cancellable` gives it this session's signal instead, for work done beside it.
   */
  async fresh(timeoutMs: number, { cancellable = false }: { cancellable?: boolean } = {}): Promise<Session> {
    const signal = cancellable ? this.signal : undefined
    const client = await connectOnce(this.settings, timeoutMs, signal)
    try {
      await unlessCancelled(setUpSession(client, this.info.version, timeoutMs), signal, 'setting up a new connection')
    } catch (error) {
      await client.end().catch(() => undefined) // never set up, never used: the error is what matters
      throw error
    }
    return new Session(client, this.settings, this.info, timeoutMs, signal)
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined) // closing after a failure must not hide it
  }
}

/** A connection used only to cancel a job, when the session may be stuck in a poll. */
export async function withFreshConnection<T>(
  settings: ConnectionSettings,
  timeoutMs: number,
  work: (client: pg.Client) => Promise<T>
): Promise<T> {
  const client = await connectOnce(settings, timeoutMs)
  try {
    await setUpSession(client, undefined, timeoutMs)
    return await work(client)
  } finally {
    await client.end().catch(() => undefined) // best effort after the work is done
  }
}
