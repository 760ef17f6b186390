/**
 * The wire protocol's messages: backend messages framed with pg-protocol's Writer (errors, row
 * descriptions, data rows with their binary datum encoding) and a reader for frontend message bodies.
 */
import { Writer } from 'pg-protocol/dist/buffer-writer.js'
import { PG_TYPES, type Cell, type Column, type PgType, type WireError } from './wire.js'

/** A protocol-level failure (bad message order, unknown statement name). */
export class WireFailure extends Error implements WireError {
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

export function asWireError(error: unknown): WireError {
  return isWireError(error) ? error : { message: error instanceof Error ? error.message : String(error), code: 'XX000' }
}

export function message(code: string, build?: (w: Writer) => void): Buffer {
  const writer = new Writer()
  build?.(writer)
  return writer.flush(code.charCodeAt(0))
}

export function errorResponse(error: WireError, severity = 'ERROR'): Buffer {
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

export function protocolViolation(text: string): WireFailure {
  return new WireFailure(text, '08P01')
}

/**
 * Binary result format for the types the action reads that way (and a few cheap ones); others stay
 * text. CockroachDB writes BYTES as the raw bytes and INT8 as 8 bytes big-endian
 * (pkg/sql/pgwire/types.go, writeBinaryDatum; docs/cockroachdb-facts.md).
 */
export function binaryCapable(type: PgType): boolean {
  return type === 'int8' || type === 'float8' || type === 'bool' || type === 'text' || type === 'bytea' || type === 'uuid'
}

function encodeBinary(type: PgType, text: string): Buffer {
  switch (type) {
    case 'int8': {
      // A hostile server's 4-byte INT8, asked for by a tamper answering `int4:<n>`.
      const short = /^int4:(-?\d+)$/.exec(text)
      if (short) {
        const out = Buffer.alloc(4)
        out.writeInt32BE(Number(short[1]))
        return out
      }
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
export class Reader {
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

/** A RowDescription: each column's name, type OID and size, and its format (text, or binary where `binary` says). */
export function rowDescription(columns: Column[], binary: boolean[]): Buffer {
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

/** A DataRow: each cell in text format, or in binary where `binary` says so (and the type allows). */
export function dataRow(row: Cell[], columns: Column[], binary: boolean[]): Buffer {
  return message('D', w => {
    w.addInt16(row.length)
    row.forEach((cell, i) => {
      if (cell === null) return w.addInt32(-1)
      const column = columns[i]
      const bytes = binary[i] && column ? encodeBinary(column.type, cell) : Buffer.from(cell, 'utf8')
      w.addInt32(bytes.length).add(bytes)
    })
  })
}
