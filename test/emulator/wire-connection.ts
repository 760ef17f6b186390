/**
 * One client connection of the wire-protocol server (protocol 3.0), as a state machine: SSL/GSS
 * negotiation, startup, trust or cleartext-password authentication, then the simple and the extended
 * query protocol, each message run strictly in order (after an error, extended messages are skipped
 * until Sync).
 */
import type net from 'node:net'
import tls from 'node:tls'
import {
  asWireError,
  binaryCapable,
  dataRow,
  errorResponse,
  message,
  protocolViolation,
  Reader,
  rowDescription,
  WireFailure
} from './wire-messages.js'
import {
  PG_TYPES,
  type Cell,
  type PreparedStatement,
  type ResultSet,
  type Session,
  type TlsConfig,
  type WireError,
  type WireHandler
} from './wire.js'

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102
const PROTOCOL_3 = 196608

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
export class Connection {
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
        if (result.columns) this.send(rowDescription(result.columns, []))
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
      return this.send(statement.columns ? rowDescription(statement.columns, []) : message('n'))
    }
    const portal = this.portals.get(name)
    if (!portal) throw new WireFailure(`unknown portal "${name}"`, '34000')
    this.send(portal.statement.columns ? rowDescription(portal.statement.columns, portal.binaryColumns) : message('n'))
  }

  private async execute(reader: Reader): Promise<void> {
    const name = reader.cstring()
    const portal = this.portals.get(name)
    if (!portal) throw new WireFailure(`unknown portal "${name}"`, '34000')
    if (portal.statement === emptyStatement) return this.send(message('I'))
    const result = await portal.statement.execute(portal.params, 'extended')
    this.sendRows(result, portal.binaryColumns)
  }

  private sendRows(result: ResultSet, binary: boolean[]): void {
    const columns = result.columns ?? []
    for (const [index, row] of result.rows.entries()) {
      if (index === result.cutAfterRows) {
        this.socket.destroy()
        return
      }
      this.send(dataRow(row, columns, binary))
    }
    this.send(message('C', w => w.addCString(result.commandTag)))
  }
}

const emptyStatement: PreparedStatement = {
  parameterCount: 0,
  columns: undefined,
  execute: () => Promise.resolve({ columns: undefined, rows: [], commandTag: '' })
}
