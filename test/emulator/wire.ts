/**
 * The contract between the PostgreSQL wire-protocol server (wire-server.ts, wire-connection.ts,
 * wire-messages.ts) and what answers its statements: result types, sessions, prepared statements
 * and the `WireHandler` that session.ts implements. Nothing here knows about CockroachDB.
 */

/** PostgreSQL type OIDs and sizes of the result types the handler may use. */
export const PG_TYPES = {
  int8: { oid: 20, size: 8 },
  text: { oid: 25, size: -1 },
  float8: { oid: 701, size: 8 },
  bool: { oid: 16, size: 1 },
  timestamp: { oid: 1114, size: 8 },
  timestamptz: { oid: 1184, size: 8 },
  bytea: { oid: 17, size: -1 },
  uuid: { oid: 2950, size: 16 },
  interval: { oid: 1186, size: 16 },
  'text[]': { oid: 1009, size: -1 },
  numeric: { oid: 1700, size: -1 }
} as const

export type PgType = keyof typeof PG_TYPES

export interface Column {
  name: string
  type: PgType
}

/** A cell in text format (bytea as `\x…` hex), or NULL. */
export type Cell = string | null

export interface ResultSet {
  /** Undefined for statements that return no rows (NoData). */
  columns: Column[] | undefined
  rows: Cell[][]
  commandTag: string
  /** The connection is destroyed after this many rows, before the rest and the command tag (a killed connection mid-answer). */
  cutAfterRows?: number
}

/** What the handler throws to make an ErrorResponse. */
export interface WireError {
  message: string
  code: string
  detail?: string | undefined
  hint?: string | undefined
}

export interface Session {
  user: string
  database: string
  /** The startup packet's `options`, as sent. */
  options: string
  processId: number
  /** The client's TLS certificate subject CN, when it presented a verified one. */
  certificateCommonName: string | undefined
}

export type Protocol = 'simple' | 'extended'

export interface PreparedStatement {
  parameterCount: number
  columns: Column[] | undefined
  execute(params: Cell[], protocol: Protocol): Promise<ResultSet>
}

export type AuthPlan =
  { kind: 'trust' } | { kind: 'password'; verify(password: string): WireError | undefined } | { kind: 'reject'; error: WireError }

export interface WireHandler {
  authenticate(session: Session): AuthPlan
  parameterStatus(session: Session): Record<string, string>
  /** All statements in `sql`; throws a WireError for text it cannot parse. */
  prepare(sql: string, session: Session, protocol: Protocol): PreparedStatement[]
}

export interface TlsConfig {
  key: string | Buffer
  cert: string | Buffer
  ca?: string | Buffer
  requestCert?: boolean
}
