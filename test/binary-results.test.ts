/**
 * Binary result format through the carried pg-protocol patch (patches/, brianc/node-postgres#3495):
 * the download reads chunks with Session.queryBinary, so these fail if the patch is missing, stops
 * applying, or stops reaching the bundle.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConnectionString } from '../src/connection-string.js'
import { Session } from '../src/connection.js'
import { startEmulator, type Emulator } from './emulator/index.js'
import { startPostgres, type PostgresServer } from './support/postgres.js'

const require = createRequire(import.meta.url)
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  overrides: Record<string, string>
}
const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version

describe('the carried pg-protocol patch', () => {
  it('is pinned to the exact versions it was written for', () => {
    expect(packageJson.dependencies.pg).toBe(installedVersion('pg'))
    expect(packageJson.overrides['pg-protocol']).toBe(installedVersion('pg-protocol'))
    const patches = readFileSync(new URL('../patches/pg-protocol+' + installedVersion('pg-protocol') + '.patch', import.meta.url), 'utf8')
    expect(patches).toContain('binaryColumns')
  })

  it('is applied in node_modules and bundled into both dist entry points', () => {
    expect(readFileSync(require.resolve('pg-protocol/dist/parser.js'), 'utf8')).toContain('binaryColumns')
    for (const bundle of ['../dist/index.js', '../dist/restore/index.js']) {
      expect(readFileSync(new URL(bundle, import.meta.url), 'utf8')).toContain('binaryColumns')
    }
  })
})

const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const bigPayload = Buffer.concat([everyByte, randomBytes(4 * 1024 * 1024), everyByte])

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
    const rows = await session.queryBinary<{ a: number; b: string }>('SELECT $1::int4 AS a, $2::int8 AS b', [1000, '-200'], 'testing')
    expect(rows).toEqual([{ a: 1000, b: '-200' }])
  })

  it('returns bytea as the exact bytes, a 4 MiB value included', async () => {
    const rows = await session.queryBinary<{ payload: Buffer }>('SELECT $1::bytea AS payload', [bigPayload], 'testing')
    expect(Buffer.isBuffer(rows[0]?.payload)).toBe(true)
    expect(rows[0]?.payload.equals(bigPayload)).toBe(true)
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
    const rows = await session.queryBinary<{ byte_offset: string; payload: Buffer }>(
      'SELECT byte_offset, payload FROM defaultdb.public.userfiles_root_upload_payload WHERE file_id = $1 AND byte_offset >= $2 ORDER BY byte_offset LIMIT 1',
      [fileId, 0],
      'testing'
    )
    expect(rows[0]?.byte_offset).toBe('0')
    expect(rows[0]?.payload.equals(bigPayload)).toBe(true)
  })
})
