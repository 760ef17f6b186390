/** The emulator's transactions over userfile tables, and the IN (SELECT …) delete keep-backups sends. */
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './emulator/index.js'

const FILES = 'defaultdb.public.userfiles_root_upload_files'
const PAYLOAD = 'defaultdb.public.userfiles_root_upload_payload'

let emu: Emulator
let client: pg.Client

beforeEach(async () => {
  emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 30 })
  emu.createDatabase('bank', { accounts: { rows: 10, bytes: 640 } })
  client = new pg.Client({ connectionString: emu.connectionString() })
  await client.connect()
  await client.query(`BACKUP DATABASE bank INTO 'userfile://defaultdb.public.userfiles_root/bank-backup'`)
})

afterEach(async () => {
  await client.end()
  await emu.close()
})

const count = async (table: string): Promise<number> =>
  Number((await client.query<{ count: string }>(`SELECT count(*) FROM ${table}`)).rows[0]?.count)

describe('emulator transactions', () => {
  it('ROLLBACK puts back what the transaction deleted', async () => {
    const [files, chunks] = [await count(FILES), await count(PAYLOAD)]
    expect(files).toBeGreaterThan(0)
    await client.query('BEGIN')
    await client.query(`DELETE FROM ${PAYLOAD} WHERE file_id IN (SELECT file_id FROM ${FILES} WHERE filename LIKE $1)`, ['/bank-backup/%'])
    await client.query(`DELETE FROM ${FILES} WHERE filename LIKE $1`, ['/bank-backup/%'])
    expect([await count(FILES), await count(PAYLOAD)]).toEqual([0, 0])
    await client.query('ROLLBACK')
    expect([await count(FILES), await count(PAYLOAD)]).toEqual([files, chunks])
  })

  it('COMMIT keeps it', async () => {
    await client.query('BEGIN')
    await client.query(`DELETE FROM ${PAYLOAD} WHERE file_id IN (SELECT file_id FROM ${FILES} WHERE filename LIKE $1)`, ['%MANIFEST'])
    await client.query('COMMIT')
    const manifests = await client.query<{ file_id: string }>(`SELECT file_id FROM ${FILES} WHERE filename LIKE $1`, ['%MANIFEST'])
    expect(manifests.rows.length).toBeGreaterThan(0)
    for (const row of manifests.rows)
      expect((await client.query(`SELECT byte_offset FROM ${PAYLOAD} WHERE file_id = $1`, [row.file_id])).rows).toEqual([])
  })

  it('after an error takes nothing but ROLLBACK or COMMIT (25P02), and COMMIT then rolls back', async () => {
    const files = await count(FILES)
    await client.query('BEGIN')
    await client.query(`DELETE FROM ${FILES} WHERE filename LIKE $1`, ['%'])
    await expect(client.query('SELECT nope FROM defaultdb.public.userfiles_root_upload_files')).rejects.toMatchObject({ code: '42703' })
    await expect(client.query(`SELECT count(*) FROM ${FILES}`)).rejects.toMatchObject({ code: '25P02' })
    const commit = await client.query('COMMIT')
    expect(commit.command).toBe('ROLLBACK')
    expect(await count(FILES)).toBe(files)
  })

  it('refuses a nested BEGIN', async () => {
    await client.query('BEGIN')
    await expect(client.query('BEGIN')).rejects.toMatchObject({ code: '25001' })
    await client.query('ROLLBACK')
  })
})
