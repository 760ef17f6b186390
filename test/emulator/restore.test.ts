/** The emulator's userfile tables and RESTORE, through the real `pg` driver. */
import { describe, expect, it } from 'vitest'
import { COLLECTION, emulator, connect, failure, pollJob, paths } from '../support/emulator-client.js'

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
    const client = await connect(emu)
    const { rows } = await client.query<{ job_id: string }>(
      `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
    )
    await pollJob(client, rows[0]!.job_id)
    const [path] = await paths(client)
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

  it('DROP DATABASE … CASCADE takes the userfile tables kept in it', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    await client.query(`SHOW BACKUPS IN '${COLLECTION}'`)
    expect(emu.cluster.userfiles.has('defaultdb.public.userfiles_root')).toBe(true)
    await client.query('DROP DATABASE defaultdb CASCADE')
    expect(emu.cluster.userfiles.has('defaultdb.public.userfiles_root')).toBe(false)
  })
})
