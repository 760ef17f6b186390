/** The emulator's userfile tables and RESTORE, through the real `pg` driver. */
import { describe, expect, it } from 'vitest'
import { COLLECTION, emulator, connect, failure, pollJob, paths } from '../support/emulator-client.js'
import type { Emulator } from './index.js'
import type pg from 'pg'

/** A full backup of the emulator's databases as they are, on a new connection, and its folder. */
async function backedUp(emu: Emulator): Promise<{ client: pg.Client; path: string }> {
  const client = await connect(emu)
  const { rows } = await client.query<{ job_id: string }>(
    `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
  )
  await pollJob(client, rows[0]!.job_id)
  const [path] = await paths(client)
  return { client, path: path! }
}

describe('userfile writes and RESTORE', () => {
  const FILES = 'defaultdb.public.userfiles_root_upload_files'
  const PAYLOAD = 'defaultdb.public.userfiles_root_upload_payload'

  it('stores a Buffer parameter (sent in binary format) byte for byte, and sums it back', async () => {
    const client = await connect(await emulator())
    await client.query(`SHOW BACKUPS IN '${COLLECTION}'`) // creates the tables, as CockroachDB does
    const id = '11111111-2222-4333-8444-555555555555'
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256))
    await client.query(`INSERT INTO ${FILES} (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)`, [
      '/x/f',
      id,
      bytes.length,
      'root'
    ])
    await client.query(`INSERT INTO ${PAYLOAD} (file_id, byte_offset, payload) VALUES ($1, $2, $3)`, [id, 0, bytes])
    const totals = await client.query(
      `SELECT count(*) AS chunks, COALESCE(sum(length(payload)), 0) AS bytes FROM ${PAYLOAD} WHERE file_id = $1`,
      [id]
    )
    expect(totals.rows).toEqual([{ chunks: '1', bytes: String(bytes.length) }])
    expect(totals.fields.map(f => f.dataTypeID)).toEqual([20, 1700])
    const back = await client.query(
      `SELECT byte_offset, encode(payload, 'base64') AS payload FROM ${PAYLOAD} WHERE file_id = $1 AND byte_offset >= $2 ORDER BY byte_offset LIMIT 1`,
      [id, 0]
    )
    expect(Buffer.from(back.rows[0].payload as string, 'base64').equals(bytes)).toBe(true)
    const duplicate = await failure(
      client.query(`INSERT INTO ${FILES} (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)`, ['/x/f', 'other', 1, 'root'])
    )
    expect(duplicate.code).toBe('23505')
    const orphan = await failure(
      client.query(`INSERT INTO ${PAYLOAD} (file_id, byte_offset, payload) VALUES ($1, $2, $3)`, ['no-such-file', 0, bytes])
    )
    expect(orphan.code).toBe('23503')
    expect((await client.query(`UPDATE ${FILES} SET filename = $1 WHERE file_id = $2`, ['/x/g', id])).rowCount).toBe(1)
    expect((await client.query(`DELETE FROM ${PAYLOAD} WHERE file_id = $1`, [id])).rowCount).toBe(1)
  })

  it('restores a backup under a new name, and refuses an existing database with XXUUU (42P04 is the code of CREATE DATABASE)', async () => {
    const emu = await emulator()
    emu.createDatabase('bank', { accounts: { rows: 12, bytes: 1200 } })
    const { client, path } = await backedUp(emu)
    const exists = await failure(client.query(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached`))
    expect([exists.code, exists.message]).toEqual(['XXUUU', 'database "bank" already exists'])
    const taken = await failure(
      client.query(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached, new_db_name = 'defaultdb'`)
    )
    expect([taken.code, taken.message]).toEqual(['XXUUU', 'database "defaultdb" already exists'])
    expect((await failure(client.query('CREATE DATABASE bank'))).code).toBe('42P04')
    const restore = await client.query<{ job_id: string }>(
      `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached, new_db_name = 'bank2'`
    )
    const history = await pollJob(client, restore.rows[0]!.job_id)
    expect(history.at(-1)?.status).toBe('succeeded')
    expect(emu.cluster.databases.get('bank2')?.schemas.get('public')?.get('accounts')).toMatchObject({ rows: 12, bytes: 1200 })
    const found = await client.query(`SELECT database_name FROM [SHOW DATABASES] WHERE database_name = $1`, ['bank2'])
    expect(found.rows).toEqual([{ database_name: 'bank2' }])
    await client.query('DROP DATABASE bank2 CASCADE')
    expect(emu.cluster.databases.has('bank2')).toBe(false)
    expect((await failure(client.query('DROP DATABASE bank2 CASCADE'))).code).toBe('3D000')
  })

  it('lists a view as a table with 0 rows in SHOW BACKUP, and restores it with what its query returns', async () => {
    const emu = await emulator()
    emu.createDatabase('bank', { accounts: { rows: 12, bytes: 1200 } })
    emu.createView('bank', 'rich', 5)
    const { client, path } = await backedUp(emu)
    const shown = await client.query<{ object_name: string; object_type: string; rows: string }>(`SHOW BACKUP '${path}' IN '${COLLECTION}'`)
    expect(shown.rows.filter(r => r.object_type === 'table').map(r => [r.object_name, r.rows])).toEqual([
      ['accounts', '12'],
      ['rich', '0']
    ])
    const restore = await client.query<{ job_id: string }>(
      `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached, new_db_name = 'bank2'`
    )
    await pollJob(client, restore.rows[0]!.job_id)
    expect((await client.query('SELECT count(*) AS count FROM bank2.public.rich')).rows).toEqual([{ count: '5' }])
    const kinds = await client.query('SELECT table_name, type FROM [SHOW TABLES FROM bank2.public]')
    expect(kinds.rows).toEqual([
      { table_name: 'accounts', type: 'table' },
      { table_name: 'rich', type: 'view' }
    ])
  })

  it("counts a revision-history backup's deleted rows within the GC window in SHOW BACKUP, and restores the live rows", async () => {
    const emu = await emulator()
    emu.createDatabase('bank', { accounts: { rows: 100, bytes: 1000 } })
    const now = emu.cluster.now().getTime()
    emu.deleteRows('bank', 'accounts', 20, new Date(now - 5 * 3600_000)) // before v23.2's 4 h GC TTL: collected
    emu.deleteRows('bank', 'accounts', 10, new Date(now - 60_000))
    const client = await connect(emu)
    const { rows } = await client.query<{ job_id: string }>(
      `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached, revision_history`
    )
    await pollJob(client, rows[0]!.job_id)
    const [path] = await paths(client)
    const shown = await client.query<{ object_name: string; rows: string }>(`SHOW BACKUP '${path}' IN '${COLLECTION}'`)
    expect(shown.rows.find(r => r.object_name === 'accounts')?.rows).toBe(String(70 + 2 * 10))
    const restore = await client.query<{ job_id: string }>(
      `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached, new_db_name = 'bank2'`
    )
    await pollJob(client, restore.rows[0]!.job_id)
    expect((await client.query('SELECT count(*) AS count FROM bank2.public.accounts')).rows).toEqual([{ count: '70' }])
  })

  it('counts a table AS OF SYSTEM TIME, and refuses a time below the GC threshold', async () => {
    const emu = await emulator()
    emu.createDatabase('bank', { accounts: { rows: 100, bytes: 1000 } })
    const now = emu.cluster.now().getTime()
    emu.deleteRows('bank', 'accounts', 10, new Date(now - 60_000))
    const client = await connect(emu)
    const at = (ms: number): string => `${BigInt(ms) * 1_000_000n}.0000000000`
    const count = (ms: number) => client.query(`SELECT count(*) AS count FROM bank.public.accounts AS OF SYSTEM TIME '${at(ms)}'`)
    expect((await count(now - 120_000)).rows).toEqual([{ count: '100' }])
    expect((await count(now)).rows).toEqual([{ count: '90' }])
    const old = await failure(count(now - 5 * 3600_000))
    expect(old.code).toBe('XXUUU')
    expect(old.message).toMatch(/^batch timestamp \d+\.\d{9},0 must be after replica GC threshold \d+\.\d{9},0$/)
  })

  it('renames a database as ALTER DATABASE … RENAME TO does, with its errors', async () => {
    const emu = await emulator()
    emu.createDatabase('bank', { accounts: { rows: 12, bytes: 1200 } })
    emu.createDatabase('other', {})
    const client = await connect(emu)
    await client.query('ALTER DATABASE bank RENAME TO bank_old')
    expect(emu.cluster.databases.has('bank')).toBe(false)
    expect(emu.cluster.databases.get('bank_old')?.schemas.get('public')?.get('accounts')?.rows).toBe(12)
    const missing = await failure(client.query('ALTER DATABASE bank RENAME TO bank2'))
    expect([missing.code, missing.message]).toEqual(['3D000', 'database "bank" does not exist'])
    const taken = await failure(client.query('ALTER DATABASE bank_old RENAME TO other'))
    expect([taken.code, taken.message]).toEqual(['42P04', 'the new database name "other" already exists'])
    emu.cluster.databases.get('other')!.dependency = { dependent: 'other.public.v', on: 'other.public.t' }
    const viewed = await failure(client.query('ALTER DATABASE other RENAME TO other2'))
    expect([viewed.code, viewed.message, viewed.hint]).toEqual([
      '2BP01',
      'cannot rename database because relation "other.public.v" depends on relation "other.public.t"',
      'consider dropping "other.public.v" first'
    ])
    await client.query('ALTER DATABASE bank_old RENAME TO bank')
    expect(emu.cluster.databases.get('bank')?.name).toBe('bank')
  })

  it('has no new_db_name before v22.1: the option is not in the grammar there', async () => {
    const emu = await emulator({ profile: 'v21.2' })
    emu.createDatabase('bank', { accounts: { rows: 12, bytes: 1200 } })
    const { client, path } = await backedUp(emu)
    const refused = await failure(
      client.query(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' WITH detached, new_db_name = 'bank2'`)
    )
    expect([refused.code, refused.message]).toEqual(['42601', 'at or near "new_db_name": syntax error'])
  })

  it('DROP DATABASE … CASCADE takes the userfile tables kept in it', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    await client.query(`SHOW BACKUPS IN '${COLLECTION}'`)
    expect(emu.cluster.userfiles.has('defaultdb.public.userfiles_root')).toBe(true)
    await client.query('DROP DATABASE defaultdb CASCADE')
    expect(emu.cluster.userfiles.has('defaultdb.public.userfiles_root')).toBe(false)
  })
})
