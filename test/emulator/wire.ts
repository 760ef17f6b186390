/**
 * A PostgreSQL wire-protocol server (protocol 3.0): SSL/GSS negotiation, startup, trust or
 * cleartext-password authentication, the simple and the extended query protocol. It knows
 * nothing about CockroachDB: a `WireHandler` prepares statements and runs them.
 * Backend messages are built with pg-protocol's Writer; frontend messages are read by hand.
 */
import net from 'node:net'
import tls from 'node:tls'
import { Writer } from 'pg-protocol/dist/buffer-writer.js'

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

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const PROTOCOL_3 = 196608

/** A protocol-level failure (bad message order, unknown statement name). */
class WireFailure extends Error implements WireError {
  constructor(
    message: string,
    readonly code: string
  ) {
    super(message)
  }
}

function isWireError(error: unknown): error is WireError {
  return error instanceof Error && typeof (error as Partial<WireError>).code === 'string'
}

function asWireError(error: unknown): WireError {
  return isWireError(error) ? error : { message: error instanceof Error ? error.message : String(error), code: 'XX000' }
}

function message(code: string, build?: (w: Writer) => void): Buffer {
  const writer = new Writer()
  build?.(writer)
  return writer.flush(code.charCodeAt(0))
}

function errorResponse(error: WireError, severity = 'ERROR'): Buffer {
  return message('E', w => {
    w.addString('S').addCString(severity)
    w.addString('V').addCString(severity)
    w.addString('C').addCString(error.code)
    w.addString('M').addCString(error.message)
    if (error.detail) w.addString('D').addCString(error.detail)
    if (error.hint) w.addString('H').addCString(error.hint)
    w.addCString('')
  })
}

function protocolViolation(text: string): WireFailure {
  return new WireFailure(text, '08P01')
}

/**
 * Binary result format for the types the action reads that way (and a few cheap ones); others stay
 * text. CockroachDB writes BYTES as the raw bytes and INT8 as 8 bytes big-endian
 * (pkg/sql/pgwire/types.go, writeBinaryDatum; docs/cockroachdb-facts.md).
 */
function binaryCapable(type: PgType): boolean {
  return type === 'int8' || type === 'float8' || type === 'bool' || type === 'text' || type === 'bytea' || type === 'uuid'
}

function encodeBinary(type: PgType, text: string): Buffer {
  switch (type) {
    case 'int8': {
      const out = Buffer.alloc(8)
      out.writeBigInt64BE(BigInt(text))
      return out
    }
    case 'float8': {
      const out = Buffer.alloc(8)
      out.writeDoubleBE(Number(text))
      return out
    }
    case 'bool':
      return Buffer.from([text === 't' ? 1 : 0])
    case 'uuid':
      // writeBinaryDatumNotNull: a UUID's 16 bytes (v.GetBytes()).
      return Buffer.from(text.replaceAll('-', ''), 'hex')
    case 'bytea':
      if (!text.startsWith('\\x')) throw new Error(`a bytea cell is not in hex form: ${text.slice(0, 10)}`)
      return Buffer.from(text.slice(2), 'hex')
    default:
      return Buffer.from(text, 'utf8')
  }
}

/** A small reader over one frontend message body. */
class Reader {
  private offset = 0
  constructor(private readonly body: Buffer) {}
  int16(): number {
    const v = this.body.readInt16BE(this.offset)
    this.offset += 2
    return v
  }
  int32(): number {
    const v = this.body.readInt32BE(this.offset)
    this.offset += 4
    return v
  }
  cstring(): string {
    const end = this.body.indexOf(0, this.offset)
    if (end === -1) throw protocolViolation('missing string terminator')
    const v = this.body.toString('utf8', this.offset, end)
    this.offset = end + 1
    return v
  }
  bytes(length: number): Buffer {
    const v = this.body.subarray(this.offset, this.offset + length)
    this.offset += length
    return v
  }
}

interface Portal {
  statement: PreparedStatement
  params: Cell[]
  binaryColumns: boolean[]
}

interface StoredStatement {
  prepared: PreparedStatement | undefined
  parameterOids: number[]
}

type Message = { type: string; body: Buffer }

/** One client connection: reads messages, runs them strictly in order. */
class Connection {
  private buffer = Buffer.alloc(0)
  private started = false
  private awaitingPassword: ((password: string) => void) | undefined
  private readonly queue: Message[] = []
  private running = false
  private skipUntilSync = false
  private session: Session | undefined
  private readonly statements = new Map<string, StoredStatement>()
  private readonly portals = new Map<string, Portal>()
  private socket: net.Socket

  constructor(
    socket: net.Socket,
    private readonly handler: WireHandler,
    private readonly tlsConfig: TlsConfig | undefined,
    private readonly processId: number,
    private readonly track: (socket: net.Socket) => void
  ) {
    this.socket = socket
    this.attach(socket)
  }

  private attach(socket: net.Socket): void {
    socket.on('data', chunk => this.receive(chunk))
    socket.on('error', () => socket.destroy())
  }

  private send(data: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(data)
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    try {
      this.readMessages()
    } catch (error) {
      this.send(errorResponse(asWireError(error), 'FATAL'))
      this.socket.end()
    }
  }

  private readMessages(): void {
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return
        const length = this.buffer.readInt32BE(0)
        if (this.buffer.length < length) return
        const body = this.buffer.subarray(4, length)
        this.buffer = this.buffer.subarray(length)
        this.startupPacket(body)
        continue
      }
      if (this.buffer.length < 5) return
      const length = this.buffer.readInt32BE(1)
      if (this.buffer.length < length + 1) return
      const type = String.fromCharCode(this.buffer[0] ?? 0)
      const body = this.buffer.subarray(5, length + 1)
      this.buffer = this.buffer.subarray(length + 1)
      if (type === 'p' && this.awaitingPassword) {
        this.awaitingPassword(new Reader(body).cstring())
        continue
      }
      this.queue.push({ type, body })
      void this.pump()
    }
  }

  private startupPacket(body: Buffer): void {
    const reader = new Reader(body)
    const code = reader.int32()
    if (code === SSL_REQUEST) return this.sslRequest()
    if (code === GSSENC_REQUEST) return this.send(Buffer.from('N'))
    if (code === CANCEL_REQUEST) {
      // Cancellation is not modelled: CockroachDB ignores most cancel requests for BACKUP too.
      this.socket.end()
      return
    }
    if (code !== PROTOCOL_3) throw protocolViolation(`unsupported protocol version ${code}`)
    const params: Record<string, string> = {}
    for (;;) {
      const key = reader.cstring()
      if (key === '') break
      params[key] = reader.cstring()
    }
    const user = (params.user ?? '').toLowerCase()
    const peer = this.socket instanceof tls.TLSSocket && this.socket.authorized ? this.socket.getPeerCertificate() : undefined
    const commonName = peer?.subject.CN
    this.session = {
      user,
      database: params.database ?? user,
      options: params.options ?? '',
      processId: this.processId,
      certificateCommonName: Array.isArray(commonName) ? commonName[0] : commonName
    }
    this.started = true
    this.authenticate(this.session)
  }

  private sslRequest(): void {
    if (!this.tlsConfig) return this.send(Buffer.from('N'))
    this.send(Buffer.from('S'))
    const raw = this.socket
    raw.removeAllListeners('data')
    const secure = new tls.TLSSocket(raw, {
      isServer: true,
      key: this.tlsConfig.key,
      cert: this.tlsConfig.cert,
      ...(this.tlsConfig.ca === undefined ? {} : { ca: this.tlsConfig.ca }),
      requestCert: this.tlsConfig.requestCert ?? false,
      rejectUnauthorized: false
    })
    this.socket = secure
    this.track(secure)
    this.attach(secure)
  }

  private authenticate(session: Session): void {
    const plan = this.handler.authenticate(session)
    if (plan.kind === 'reject') return this.fatal(plan.error)
    if (plan.kind === 'trust') return this.welcome(session)
    this.send(message('R', w => w.addInt32(3)))
    this.awaitingPassword = password => {
      this.awaitingPassword = undefined
      const error = plan.verify(password)
      if (error) this.fatal(error)
      else this.welcome(session)
    }
  }

  private fatal(error: WireError): void {
    this.send(errorResponse(error, 'FATAL'))
    this.socket.end()
  }

  private welcome(session: Session): void {
    this.send(message('R', w => w.addInt32(0)))
    for (const [name, value] of Object.entries(this.handler.parameterStatus(session))) {
      this.send(message('S', w => w.addCString(name).addCString(value)))
    }
    this.send(message('K', w => w.addInt32(session.processId).addInt32(session.processId ^ 0x5a5a5a5a)))
    this.readyForQuery()
  }

  private readyForQuery(): void {
    this.send(message('Z', w => w.addString('I')))
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        await this.dispatch(next)
      }
    } finally {
      this.running = false
    }
  }

  private async dispatch({ type, body }: Message): Promise<void> {
    if (type === 'X') {
      this.socket.end()
      return
    }
    if (type === 'S') {
      this.skipUntilSync = false
      return this.readyForQuery()
    }
    if (type === 'Q') return this.simpleQuery(new Reader(body).cstring())
    if (this.skipUntilSync) return
    try {
      await this.extended(type, new Reader(body))
    } catch (error) {
      this.send(errorResponse(asWireError(error)))
      this.skipUntilSync = true
    }
  }

  private get currentSession(): Session {
    if (!this.session) throw protocolViolation('no startup message')
    return this.session
  }

  private async simpleQuery(sql: string): Promise<void> {
    try {
      const statements = this.handler.prepare(sql, this.currentSession, 'simple')
      if (statements.length === 0) this.send(message('I'))
      for (const statement of statements) {
        const result = await statement.execute([], 'simple')
        if (result.columns) this.send(this.rowDescription(result.columns, []))
        this.sendRows(result, [])
      }
    } catch (error) {
      this.send(errorResponse(asWireError(error)))
    }
    this.readyForQuery()
  }

  private async extended(type: string, reader: Reader): Promise<void> {
    switch (type) {
      case 'P':
        return this.parse(reader)
      case 'B':
        return this.bind(reader)
      case 'D':
        return this.describe(reader)
      case 'E':
        return this.execute(reader)
      case 'C': {
        const kind = reader.bytes(1).toString()
        const name = reader.cstring()
        if (kind === 'S') this.statements.delete(name)
        else this.portals.delete(name)
        return this.send(message('3'))
      }
      case 'H':
        return
      default:
        throw protocolViolation(`unexpected message type ${type}`)
    }
  }

  private parse(reader: Reader): void {
    const name = reader.cstring()
    const sql = reader.cstring()
    const parameterOids = Array.from({ length: reader.int16() }, () => reader.int32())
    if (name !== '' && this.statements.has(name)) throw new WireFailure(`prepared statement "${name}" already exists`, '42P05')
    const prepared = this.handler.prepare(sql, this.currentSession, 'extended')
    if (prepared.length > 1) throw new WireFailure('cannot insert multiple commands into a prepared statement', '42601')
    this.statements.set(name, { prepared: prepared[0], parameterOids })
    this.send(message('1'))
  }

  private bind(reader: Reader): void {
    const portalName = reader.cstring()
    const statementName = reader.cstring()
    const stored = this.statements.get(statementName)
    if (!stored) throw new WireFailure(`prepared statement "${statementName}" does not exist`, '26000')
    const formats = Array.from({ length: reader.int16() }, () => reader.int16())
    const params: Cell[] = []
    const count = reader.int16()
    for (let i = 0; i < count; i++) {
      const length = reader.int32()
      if (length === -1) {
        params.push(null)
        continue
      }
      const bytes = reader.bytes(length)
      const binary = (formats.length === 1 ? formats[0] : formats[i]) === 1
      // Binary parameters: int8 as a number; anything else (node-postgres sends Buffers this way) as
      // bytea's text form, `\x…`, which is what a text-format bytea parameter looks like too.
      if (!binary) params.push(bytes.toString('utf8'))
      else if (stored.parameterOids[i] === PG_TYPES.int8.oid) params.push(bytes.readBigInt64BE().toString())
      else params.push(`\\x${bytes.toString('hex')}`)
    }
    const resultFormats = Array.from({ length: reader.int16() }, () => reader.int16())
    const statement = stored.prepared ?? emptyStatement
    if (count !== statement.parameterCount) {
      throw protocolViolation(
        `bind message supplies ${count} parameters, but prepared statement "${statementName}" requires ${statement.parameterCount}`
      )
    }
    const binaryColumns = (statement.columns ?? []).map(
      (column, i) => (resultFormats.length === 1 ? resultFormats[0] : resultFormats[i]) === 1 && binaryCapable(column.type)
    )
    this.portals.set(portalName, { statement, params, binaryColumns })
    this.send(message('2'))
  }

  private describe(reader: Reader): void {
    const kind = reader.bytes(1).toString()
    const name = reader.cstring()
    if (kind === 'S') {
      const stored = this.statements.get(name)
      if (!stored) throw new WireFailure(`prepared statement "${name}" does not exist`, '26000')
      const statement = stored.prepared ?? emptyStatement
      const oids = Array.from({ length: statement.parameterCount }, (_, i) => stored.parameterOids[i] || PG_TYPES.text.oid)
      this.send(
        message('t', w => {
          w.addInt16(oids.length)
          for (const oid of oids) w.addInt32(oid)
        })
      )
      return this.send(statement.columns ? this.rowDescription(statement.columns, []) : message('n'))
    }
    const portal = this.portals.get(name)
    if (!portal) throw new WireFailure(`unknown portal "${name}"`, '34000')
    this.send(portal.statement.columns ? this.rowDescription(portal.statement.columns, portal.binaryColumns) : message('n'))
  }

  private async execute(reader: Reader): Promise<void> {
    const name = reader.cstring()
    const portal = this.portals.get(name)
    if (!portal) throw new WireFailure(`unknown portal "${name}"`, '34000')
    if (portal.statement === emptyStatement) return this.send(message('I'))
    const result = await portal.statement.execute(portal.params, 'extended')
    this.sendRows(result, portal.binaryColumns)
  }

  private rowDescription(columns: Column[], binary: boolean[]): Buffer {
    return message('T', w => {
      w.addInt16(columns.length)
      columns.forEach((column, i) => {
        const type = PG_TYPES[column.type]
        w.addCString(column.name)
          .addInt32(0)
          .addInt16(0)
          .addInt32(type.oid)
          .addInt16(type.size)
          .addInt32(-1)
          .addInt16(binary[i] ? 1 : 0)
      })
    })
  }

  private sendRows(result: ResultSet, binary: boolean[]): void {
    const columns = result.columns ?? []
    for (const row of result.rows) {
      this.send(
        message('D', w => {
          w.addInt16(row.length)
          row.forEach((cell, i) => {
            if (cell === null) return w.addInt32(-1)
            const column = columns[i]
            const bytes = binary[i] && column ? encodeBinary(column.type, cell) : Buffer.from(cell, 'utf8')
            w.addInt32(bytes.length).add(bytes)
          })
        })
      )
    }
    this.send(message('C', w => w.addCString(result.commandTag)))
  }
}

const emptyStatement: PreparedStatement = {
  parameterCount: 0,
  columns: undefined,
  execute: () => Promise.resolve({ columns: undefined, rows: [], commandTag: '' })
}

export interface WireServerOptions {
  host: string
  handler: WireHandler
  tls: TlsConfig | undefined
}

/** A listener that can stop and start again on the same port, and the live sockets it accepted. */
export class WireServer {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  private nextProcessId = 1

  constructor(private readonly options: WireServerOptions) {}

  get listening(): boolean {
    return this.server?.listening ?? false
  }

  /** Listens on `port` (0 = any free port); resolves to the port. */
  listen(port: number): Promise<number> {
    const server = net.createServer(socket => this.accept(socket))
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, this.options.host, () => {
        server.off('error', reject)
        const address = server.address()
        resolve(typeof address === 'object' && address ? address.port : port)
      })
    })
  }

  /** Stops accepting connections at once (new ones get ECONNREFUSED); live connections carry on. */
  stopListening(): void {
    // close() only calls back once every connection has ended; the listening socket goes at once.
    this.server?.close()
    this.server = undefined
  }

  /** Stops listening and destroys every connection; resolves when the listener is gone. */
  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    this.dropConnections()
    if (server?.listening) await new Promise<void>(resolve => server.close(() => resolve()))
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy()
    this.sockets.clear()
  }

  get connectionCount(): number {
    return this.sockets.size
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true)
    this.track(socket)
    new Connection(socket, this.options.handler, this.options.tls, this.nextProcessId++, s => this.track(s))
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }
}
