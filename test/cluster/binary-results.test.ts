/**
 * Binary result format through the carried pg-protocol patch (patches/, brianc/node-postgres#3495):
 * the download reads chunks with Session.streamBinary, so these fail without it
 * (test/carried-patches.test.ts checks that it is applied and bundled).
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { startPostgres, type PostgresServer } from '../support/postgres.js'

const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const bigPayload = Buffer.concat([everyByte, randomBytes(4 * 1024 * 1024), everyByte])

async function rowsOf<Row extends object>(session: Session, text: string, params: unknown[]): Promise<Row[]> {
  const rows: Row[] = []
  await session.streamBinary<Row>(text, params, 'testing', 5000, row => {
    rows.push(row)
    return Promise.resolve()
  })
  return rows
}

describe('binary results on real PostgreSQL', () => {
  let server: PostgresServer
  let session: Session
  beforeAll(async () => {
    server = await startPostgres()
    session = await Session.open(parseConnectionString(server.url({ database: 'postgres', sslmode: 'disable' })), { waitTimeoutMs: 5000 })
  }, 30_000)
  afterAll(async () => {
    await session?.close()
    await server?.stop()
  })

  it('keeps integers whose bytes are not UTF-8 (1000 came back as 1007 unpatched)', async () => {
    const rows = await rowsOf<{ a: number; b: string }>(session, 'SELECT $1::int4 AS a, $2::int8 AS b', [1000, '-200'])
    expect(rows).toEqual([{ a: 1000, b: '-200' }])
  })

  it('returns bytea as the exact bytes, a 4 MiB value included', async () => {
    const rows = await rowsOf<{ payload: Buffer }>(session, 'SELECT $1::bytea AS payload', [bigPayload])
    expect(Buffer.isBuffer(rows[0]?.payload)).toBe(true)
    expect(rows[0]?.payload.equals(bigPayload)).toBe(true)
  })

  it('streams many rows in order without holding them', async () => {
    const rows = await rowsOf<{ n: string; b: Buffer }>(
      session,
      'SELECT n, decode(lpad(to_hex(n), 8, $1), $2) AS b FROM generate_series(1, 2000) AS n',
      ['0', 'hex']
    )
    expect(rows.map(row => Number(row.n))).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1))
    expect(rows.every(row => row.b.readUInt32BE(0) === Number(row.n))).toBe(true)
  })

  it('fails on no progress within the idle timeout and closes the connection', async () => {
    const other = await Session.open(parseConnectionString(server.url({ database: 'postgres', sslmode: 'disable' })), {
      waitTimeoutMs: 5000
    })
    await expect(other.streamBinary('SELECT pg_sleep($1)', [5], 'sleeping', 300, () => Promise.resolve())).rejects.toThrow(
      /While sleeping: no data for 0 s/
    )
    await expect(other.query('SELECT 1', [], 'after')).rejects.toThrow(/While after/)
    await other.close()
  })

  it('leaves text results as they were on the same connection', async () => {
    const rows = await session.query<{ n: string; t: string }>("SELECT 1000::int8 AS n, 'é' AS t", [], 'testing')
    expect(rows).toEqual([{ n: '1000', t: 'é' }])
  })
})

describe('binary results from the emulator (CockroachDB: BYTES raw, INT8 big-endian)', () => {
  let emu: Emulator
  let session: Session
  beforeAll(async () => {
    emu = await startEmulator({ profile: 'v24.3' })
    session = await Session.open(parseConnectionString(emu.connectionString('root')), { waitTimeoutMs: 5000 })
  })
  afterAll(async () => {
    await session?.close()
    await emu?.close()
  })

  it('reads userfile chunks byte for byte', async () => {
    emu.cluster.userfiles.set('defaultdb.public.userfiles_root', { prefix: 'defaultdb.public.userfiles_root', files: [], payload: [] })
    const fileId = '00000000-0000-4000-8000-000000000001'
    await session.query(
      'INSERT INTO defaultdb.public.userfiles_root_upload_files (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)',
      ['/t/f', fileId, bigPayload.length, 'root'],
      'testing'
    )
    await session.query(
      'INSERT INTO defaultdb.public.userfiles_root_upload_payload (file_id, byte_offset, payload) VALUES ($1, $2, $3)',
      [fileId, 0, bigPayload],
      'testing'
    )
    const rows = await rowsOf<{ byte_offset: string; payload: Buffer }>(
      session,
      'SELECT byte_offset, payload FROM defaultdb.public.userfiles_root_upload_payload WHERE file_id = $1 ORDER BY byte_offset',
      [fileId]
    )
    expect(rows[0]?.byte_offset).toBe('0')
    expect(rows[0]?.payload.equals(bigPayload)).toBe(true)
  })
})
