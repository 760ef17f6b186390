/**
 * The carried pg-protocol patch assembles a message larger than 256 KiB in a buffer of its own and
 * hands its binary DataRow fields over without a copy (patches/README.md). Fed through the patched
 * parser in every kind of split a socket can produce, each message must come out whole, and every
 * field handed out must keep its bytes while later messages are parsed.
 */
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
// The patched parser itself: the driver reaches it only through a socket, whose splits cannot be chosen.
import { Parser, recycleLargeMessage } from 'pg-protocol/dist/parser.js'

interface Parsed {
  name: string
  fields?: (Buffer | string | null)[]
}

function message(code: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header.write(code, 0, 'latin1')
  header.writeUInt32BE(body.length + 4, 1)
  return Buffer.concat([header, body])
}

function rowDescription(columns: { name: string; binary: boolean }[]): Buffer {
  const count = Buffer.alloc(2)
  count.writeInt16BE(columns.length, 0)
  const parts: Buffer[] = [count]
  for (const column of columns) {
    const fixed = Buffer.alloc(18)
    fixed.writeInt32BE(0, 0) // table oid
    fixed.writeInt16BE(0, 4) // column number
    fixed.writeInt32BE(17, 6) // bytea
    fixed.writeInt16BE(-1, 10)
    fixed.writeInt32BE(-1, 12)
    fixed.writeInt16BE(column.binary ? 1 : 0, 16)
    parts.push(Buffer.from(`${column.name}\0`), fixed)
  }
  return message('T', Buffer.concat(parts))
}

function dataRow(values: Buffer[]): Buffer {
  const count = Buffer.alloc(2)
  count.writeInt16BE(values.length, 0)
  const parts: Buffer[] = [count]
  for (const value of values) {
    const length = Buffer.alloc(4)
    length.writeInt32BE(value.length, 0)
    parts.push(length, value)
  }
  return message('D', Buffer.concat(parts))
}

const commandComplete = message('C', Buffer.from('SELECT 3\0'))

/** Parses `stream` fed in the given piece sizes (cycled), as a socket's reads would deliver it. */
function parseInPieces(stream: Buffer, pieces: number[]): Parsed[] {
  const parser = new Parser()
  const out: Parsed[] = []
  let offset = 0
  for (let i = 0; offset < stream.length; i++) {
    const size = pieces[i % pieces.length] ?? stream.length
    // A fresh Buffer per read, as a socket gives; the parser may keep it, so nothing here reuses it.
    parser.parse(Buffer.from(stream.subarray(offset, offset + size)), (parsed: Parsed) => out.push(parsed))
    offset += size
  }
  return out
}

const big = randomBytes(4 * 1024 * 1024 + 7)
const bigToo = randomBytes(300 * 1024)
const small = randomBytes(2000)
const text = Buffer.from('é'.repeat(200 * 1024)) // 400 KiB of UTF-8: a large text field

const stream = Buffer.concat([
  rowDescription([
    { name: 'payload', binary: true },
    { name: 'note', binary: false }
  ]),
  dataRow([big, Buffer.from('first')]),
  dataRow([small, text]),
  dataRow([bigToo, Buffer.from('third')]),
  dataRow([small, Buffer.from('fourth')]),
  commandComplete
])

const splits: Record<string, number[]> = {
  'the whole stream in one read': [stream.length],
  '64 KiB reads, as a TCP socket gives': [65536],
  'odd sizes that split headers and lengths': [3, 1, 65521, 2, 4099, 7],
  'one byte, then large reads': [1, 1, 1, 1, 1, 1 << 20]
}

describe('the patched parser on messages larger than 256 KiB', () => {
  for (const [name, pieces] of Object.entries(splits)) {
    it(`keeps every message and field whole with ${name}`, () => {
      const parsed = parseInPieces(stream, pieces)
      expect(parsed.map(p => p.name)).toEqual(['rowDescription', 'dataRow', 'dataRow', 'dataRow', 'dataRow', 'commandComplete'])
      const rows = parsed.filter(p => p.name === 'dataRow').map(p => p.fields ?? [])
      // Checked only after everything was parsed: a field sharing a buffer the parser reused would have changed.
      expect(Buffer.isBuffer(rows[0]?.[0]) && rows[0][0].equals(big)).toBe(true)
      expect(rows[0]?.[1]).toBe('first')
      expect(Buffer.isBuffer(rows[1]?.[0]) && rows[1][0].equals(small)).toBe(true)
      expect(rows[1]?.[1]).toBe(text.toString('utf8'))
      expect(Buffer.isBuffer(rows[2]?.[0]) && rows[2][0].equals(bigToo)).toBe(true)
      expect(rows[2]?.[1]).toBe('third')
      expect(Buffer.isBuffer(rows[3]?.[0]) && rows[3][0].equals(small)).toBe(true)
      expect(rows[3]?.[1]).toBe('fourth')
    })
  }

  it('keeps small binary fields whole while the shared buffer is reused for the messages after them', () => {
    const values = Array.from({ length: 60 }, () => randomBytes(1000))
    const smallRows = Buffer.concat([
      rowDescription([{ name: 'payload', binary: true }]),
      ...values.map(v => dataRow([v])),
      commandComplete
    ])
    // Each read ends inside a row, so the parser moves the rest to the front of the buffer it holds.
    const parsed = parseInPieces(smallRows, [5000, 2500])
    const fields = parsed.filter(p => p.name === 'dataRow').map(p => p.fields?.[0])
    expect(fields).toHaveLength(values.length)
    expect(fields.every((field, i) => Buffer.isBuffer(field) && field.equals(values[i] as Buffer))).toBe(true)
  })

  it('hands a large binary field over as a view of the message buffer, one in a small message as a copy', () => {
    const parsed = parseInPieces(stream, [65536])
    const rows = parsed.filter(p => p.name === 'dataRow').map(p => p.fields ?? [])
    const large = rows[0]?.[0] as Buffer
    const copied = rows[3]?.[0] as Buffer
    // The field starts after the message's header (5), the field count (2) and its length (4).
    expect(large.byteOffset).toBe(11)
    expect(large.buffer.byteLength).toBeGreaterThanOrEqual(big.length + 'first'.length + 5 + 2 + 4 + 4)
    expect(copied.buffer.byteLength).toBeLessThan(64 * 1024)
  })

  it('reuses a recycled large buffer for the next large message, once, and leaves anything else alone', () => {
    const first = parseInPieces(stream, [65536]).filter(p => p.name === 'dataRow')
    const large = first[0]?.fields?.[0] as Buffer
    const small = first[3]?.fields?.[0] as Buffer
    expect(recycleLargeMessage(small)).toBe(false)
    expect(recycleLargeMessage(large)).toBe(true)
    expect(recycleLargeMessage(large)).toBe(false) // given back twice: kept once
    const again = parseInPieces(stream, [65536]).filter(p => p.name === 'dataRow')
    const reused = again[0]?.fields?.[0] as Buffer
    expect(reused.buffer).toBe(large.buffer)
    expect(reused.equals(big)).toBe(true)
    // The other large messages of the second pass got buffers of their own.
    expect((again[2]?.fields?.[0] as Buffer).buffer).not.toBe(large.buffer)
    expect((again[2]?.fields?.[0] as Buffer).equals(bigToo)).toBe(true)
  })
})
