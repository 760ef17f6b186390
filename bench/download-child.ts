/**
 * One measured download, in a process of its own so that its peak RSS is the download's alone.
 * bench/download.ts bundles this file with ncc (as the action itself is bundled) and runs the
 * bundle with plain node: tsx's loader thread would add about 30 MiB to every number.
 *
 *   node child.js baseline                                    loads the bundle and exits
 *   node child.js download <url> <collection> <path> <dir>    the action: Session.open, downloadBackup, close
 *   node child.js binary <url> <collection> <path> <dir>      the same downloadBackup, chunks fetched in
 *                                                             binary result format (the proposed change)
 *   node child.js binary-x4 <url> <collection> <path> <dir>   the same, 4 chunks per query instead of 1
 *
 * Prints one JSON line (ChildReport). The clock and maxRSS are read before the optional hash.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { DataRowMessage, RowDescriptionMessage, type BackendMessage } from 'pg-protocol/dist/messages.js'
import { Parser } from 'pg-protocol/dist/parser.js'
import { parseConnectionString } from '../src/connection-string.js'
import { Session } from '../src/connection.js'
import { downloadBackup } from '../src/download.js'
import { listLocalFiles } from '../src/local-files.js'
import { userfileLocation } from '../src/userfile.js'

export interface ChildReport {
  seconds: number
  /** With BENCH_HASH=1: SHA-256 over every downloaded file in name order, computed after the clock stops. */
  sha256?: string
  /** process.resourceUsage().maxRSS: the peak resident set of this process, in KiB. */
  maxRssKiB: number
  files: number
  bytes: number
}

const MODES = ['download', 'binary', 'binary-x4'] as const
export type Mode = (typeof MODES)[number]

/**
 * pg 8.23 asks for binary results when a query says `binary: true`, but pg-protocol decodes every
 * DataRow field as UTF-8 text and pg turns it back into bytes, which corrupts most binary values
 * (brianc/node-postgres#3495, open). This is the fix proposed upstream (#3777): a field the row
 * description marks binary stays bytes. Only the `binary` mode installs it.
 */
function keepBinaryFieldsAsBytes(): void {
  interface Reader {
    setBuffer(offset: number, buffer: Buffer): void
    int16(): number
    int32(): number
    string(length: number): string
    bytes(length: number): Buffer
  }
  interface ParserInternals {
    reader: Reader
    binaryColumns?: boolean[]
    handlePacket: (this: ParserInternals, offset: number, code: number, length: number, bytes: Buffer) => BackendMessage
  }
  const DATA_ROW = 0x44
  const prototype = Parser.prototype as unknown as ParserInternals
  const original = prototype.handlePacket
  prototype.handlePacket = function (this: ParserInternals, offset, code, length, bytes) {
    if (code !== DATA_ROW) {
      const message = original.call(this, offset, code, length, bytes)
      if (message instanceof RowDescriptionMessage) this.binaryColumns = message.fields.map(field => field.format === 'binary')
      return message
    }
    const reader = this.reader
    reader.setBuffer(offset, bytes)
    const fields: (string | Buffer | null)[] = []
    for (let i = reader.int16(), column = 0; i > 0; i--, column++) {
      const fieldLength = reader.int32()
      // A view into the parser's buffer: pg's Result copies binary fields (Buffer.from) before the next parse.
      fields.push(fieldLength === -1 ? null : this.binaryColumns?.[column] ? reader.bytes(fieldLength) : reader.string(fieldLength))
    }
    return new DataRowMessage(-1, fields as string[])
  }
}

const BYTEA_OID = 17
type Parse = (value: unknown) => unknown
/** bytea in binary format is the bytes themselves; every other type as pg reads it. */
const binaryByteaTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary'): Parse =>
    format === 'binary' && oid === BYTEA_OID
      ? (value: unknown) => value
      : (pg.types.getTypeParser as (oid: number, format?: string) => Parse)(oid, format)
}

/**
 * The part of Session that downloadBackup uses, over a plain pg.Client: the chunk query (and only
 * it: listing must stay text) asks for binary results, so bytea arrives as raw bytes instead of hex.
 */
class BinaryChunkSession {
  constructor(
    private readonly client: pg.Client,
    private readonly chunksPerQuery: number
  ) {}

  async query<Row extends object>(text: string, params: unknown[]): Promise<Row[]> {
    const binary = /^SELECT byte_offset, payload FROM /.test(text)
    if (binary && !/ LIMIT 1$/.test(text)) throw new Error(`the chunk query changed; update this prototype: ${text}`)
    const config = {
      text: binary ? text.replace(/ LIMIT 1$/, ` LIMIT ${this.chunksPerQuery}`) : text,
      values: params,
      ...(binary ? { binary: true, types: binaryByteaTypes } : {})
    }
    return (await this.client.query<Row>(config as pg.QueryConfig)).rows
  }
}

async function hashTree(directory: string): Promise<string> {
  const hash = createHash('sha256')
  for (const file of await listLocalFiles(directory)) {
    hash.update(`${file}\0`)
    for await (const piece of createReadStream(join(directory, file))) hash.update(piece as Buffer)
  }
  return hash.digest('hex')
}

async function download(mode: Mode, url: string, collection: string, backupPath: string, directory: string): Promise<ChildReport> {
  const started = performance.now()
  const settings = parseConnectionString(url)
  let session: Session
  let close: () => Promise<void>
  if (mode === 'download') {
    const real = await Session.open(settings, { waitTimeoutMs: 10_000 })
    session = real
    close = () => real.close()
  } else {
    keepBinaryFieldsAsBytes()
    const client = new pg.Client({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      database: settings.database
    })
    await client.connect()
    session = new BinaryChunkSession(client, mode === 'binary-x4' ? 4 : 1) as unknown as Session
    close = () => client.end()
  }
  try {
    const location = userfileLocation(collection, settings.user, 'download-path')
    const result = await downloadBackup(session, location, backupPath, directory, () => undefined)
    const seconds = (performance.now() - started) / 1000
    const maxRssKiB = process.resourceUsage().maxRSS
    const sha256 = process.env.BENCH_HASH === '1' ? await hashTree(directory) : undefined
    return { seconds, maxRssKiB, files: result.files, bytes: result.bytes, ...(sha256 ? { sha256 } : {}) }
  } finally {
    await close()
  }
}

async function main(args: string[]): Promise<void> {
  const [mode, url, collection, backupPath, directory] = args
  let report: ChildReport
  if (mode === 'baseline') report = { seconds: 0, maxRssKiB: process.resourceUsage().maxRSS, files: 0, bytes: 0 }
  else if (MODES.includes(mode as Mode) && url && collection && backupPath && directory)
    report = await download(mode as Mode, url, collection, backupPath, directory)
  else throw new Error('usage: child.js baseline | download|binary|binary-x4 <url> <collection> <backup-path> <directory>')
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
