/**
 * Downloading a backup out of userfile storage, against a real PostgreSQL holding CockroachDB's
 * two userfile tables: byte-exact files, streamed in 4 MiB chunks, checked, and nothing left
 * behind when anything goes wrong.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manifestChecksum } from '../../src/storage/backup-folder.js'
import { downloadBackup } from '../../src/backup/download.js'
import { userfileLocation } from '../../src/storage/userfile-location.js'
import { userfileDatabasePerTest } from '../support/userfile-database.js'
import { CHUNK, pseudoRandomBytes, storeFile } from '../support/userfile-tables.js'
import { listTree } from '../support/file-tree.js'

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'
const BACKUP = '/2024/05/07-141012.34'
const FOLDER = `/bank-backup${BACKUP}`

const db = userfileDatabasePerTest()
let workdir: string
const logs: string[] = []

beforeEach(() => {
  workdir = mkdtempSync(join(tmpdir(), 'download-test-'))
  logs.length = 0
})

afterEach(() => {
  rmSync(workdir, { recursive: true, force: true })
})

const location = () => userfileLocation(COLLECTION, 'root')
const download = (directory = join(workdir, 'backup')) =>
  downloadBackup(db.session, location(), BACKUP, directory, message => logs.push(message))

/** A small backup folder: manifest + checksum, an empty file, a nested progress file, and data. */
async function storeBackup(dataSize = 3 * CHUNK + 12_345): Promise<Map<string, Buffer>> {
  const manifest = pseudoRandomBytes(70_001, 1)
  const files = new Map<string, Buffer>([
    ['BACKUP_MANIFEST', manifest],
    ['BACKUP_MANIFEST-CHECKSUM', manifestChecksum(manifest)],
    ['BACKUP-STATISTICS', Buffer.alloc(0)],
    ['progress/BACKUP-CHECKPOINT-1', pseudoRandomBytes(999, 2)],
    ['data/1.sst', pseudoRandomBytes(dataSize, 3)]
  ])
  for (const [name, content] of files) await storeFile(db.admin, `${FOLDER}/${name}`, content)
  return files
}

describe('downloadBackup against real PostgreSQL', () => {
  it('copies every file byte for byte, keeping the layout, including a multi-chunk file and an empty one', async () => {
    const files = await storeBackup()
    await storeFile(db.admin, '/bank-backup/2024/05/07-141012.340-other/BACKUP_MANIFEST', Buffer.from('not ours'))
    await storeFile(db.admin, '/bank-backup/2024/05/07-999999.99/BACKUP_MANIFEST', Buffer.from('not ours either'))
    const result = await download()
    expect(result.directory).toBe(join(workdir, 'backup'))
    expect(result.files).toBe(files.size)
    expect(result.bytes).toBe([...files.values()].reduce((sum, b) => sum + b.length, 0))
    expect(listTree(result.directory)).toEqual([...files.keys()].sort())
    for (const [name, content] of files) expect(readFileSync(join(result.directory, name)).equals(content), name).toBe(true)
  })

  it('takes the incremental layers CockroachDB keeps under incrementals/<folder>', async () => {
    const files = await storeBackup(100)
    const layer = pseudoRandomBytes(5000, 9)
    await storeFile(db.admin, `/bank-backup/incrementals${BACKUP}/20240507/150000.00/BACKUP_MANIFEST`, layer)
    await storeFile(db.admin, `/bank-backup/incrementals${BACKUP}/20240507/150000.00/BACKUP_MANIFEST-CHECKSUM`, manifestChecksum(layer))
    const result = await download()
    expect(result.files).toBe(files.size + 2)
    expect(readFileSync(join(result.directory, 'incrementals/20240507/150000.00/BACKUP_MANIFEST')).equals(layer)).toBe(true)
  })

  it('escapes LIKE wildcards in the prefix', async () => {
    const folder = '/2024/05/07-14_012.34'
    await storeFile(db.admin, `/bank-backup${folder}/BACKUP_MANIFEST`, Buffer.from('mine'))
    await storeFile(db.admin, '/bank-backup/2024/05/07-14X012.34/BACKUP_MANIFEST', Buffer.from('a wildcard match'))
    const result = await downloadBackup(db.session, location(), folder, join(workdir, 'b'), () => undefined)
    expect(result.files).toBe(1)
    expect(readFileSync(join(result.directory, 'BACKUP_MANIFEST'), 'utf8')).toBe('mine')
  })

  it('detects a manifest that does not match its checksum and leaves nothing behind', async () => {
    await storeBackup(10)
    await db.admin.query(
      `UPDATE userfiles_root_upload_payload SET payload = '\\x00000000' WHERE file_id = (SELECT file_id FROM userfiles_root_upload_files WHERE filename = $1)`,
      [`${FOLDER}/BACKUP_MANIFEST-CHECKSUM`]
    )
    await expect(download()).rejects.toThrow(
      /BACKUP_MANIFEST does not match BACKUP_MANIFEST-CHECKSUM \(expected 00000000, got [0-9a-f]{8}\)/
    )
    expect(existsSync(join(workdir, 'backup'))).toBe(false)
  })

  it('detects a file whose chunks do not add up to its recorded size', async () => {
    await storeBackup(10)
    await storeFile(db.admin, `${FOLDER}/data/2.sst`, pseudoRandomBytes(CHUNK + 10, 4), { fileSize: CHUNK + 11 })
    await expect(download()).rejects.toThrow(/data\/2\.sst is 4194315 bytes .* but its chunks hold 4194314/)
    expect(existsSync(join(workdir, 'backup'))).toBe(false)
  })

  it('detects a missing chunk in the middle of a file', async () => {
    await storeBackup(3 * CHUNK)
    await db.admin.query(
      `DELETE FROM userfiles_root_upload_payload WHERE byte_offset = $1 AND file_id = (SELECT file_id FROM userfiles_root_upload_files WHERE filename = $2)`,
      [CHUNK, `${FOLDER}/data/1.sst`]
    )
    await expect(download()).rejects.toThrow(/data\/1\.sst has a gap or overlap at byte 4194304 \(the next chunk starts at 8388608\)/)
  })

  it('refuses two stored names sharing a file_id instead of writing one of them empty', async () => {
    await storeBackup(10)
    // CockroachDB keeps file_id UNIQUE; a table without that constraint can hold the same id twice.
    await db.admin.query('ALTER TABLE userfiles_root_upload_files DROP CONSTRAINT userfiles_root_upload_files_file_id_key CASCADE')
    await db.admin.query(
      `UPDATE userfiles_root_upload_files SET file_id = (SELECT file_id FROM userfiles_root_upload_files WHERE filename = $1) WHERE filename = $2`,
      [`${FOLDER}/data/1.sst`, `${FOLDER}/BACKUP-STATISTICS`]
    )
    await expect(download()).rejects.toThrow(
      /\/bank-backup\/2024\/05\/07-141012\.34\/BACKUP-STATISTICS and \/bank-backup\/2024\/05\/07-141012\.34\/data\/1\.sst share the file_id [0-9a-f-]+; their bytes cannot be told apart, so neither is downloaded\./
    )
    expect(existsSync(join(workdir, 'backup'))).toBe(false)
  })

  it('leaves an existing empty directory empty when the connection is killed mid-download', async () => {
    await storeBackup(12 * CHUNK)
    const directory = join(workdir, 'existing')
    mkdirSync(directory)
    // A second session holds the payload table locked, so the download is stuck inside a chunk
    // query when the backends are killed.
    const locker = new pg.Client({ connectionString: db.url })
    locker.on('error', () => undefined) // terminated with the rest below
    await locker.connect()
    await locker.query('BEGIN')
    await locker.query('LOCK TABLE userfiles_root_upload_payload IN ACCESS EXCLUSIVE MODE')
    const pending = download(directory)
    pending.catch(() => undefined) // it rejects while the test is still killing backends; asserted below
    const waiting = async (): Promise<boolean> =>
      (await db.server.query("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT%payload%'")).rows
        .length > 0
    for (let i = 0; i < 400 && !(await waiting()); i++) await new Promise(r => setTimeout(r, 10))
    expect(await waiting()).toBe(true)
    await db.server.terminateBackends()
    await expect(pending).rejects.toThrow(/While reading /)
    expect(readdirSync(directory)).toEqual([])
    await locker.end().catch(() => undefined) // already terminated
  })

  it('refuses a directory that holds something else, and touches nothing in it', async () => {
    await storeBackup(10)
    const directory = join(workdir, 'busy')
    mkdirSync(directory)
    writeFileSync(join(directory, 'BACKUP_MANIFEST'), 'an older backup')
    await expect(download(directory)).rejects.toThrow(/download-path .*busy is not empty and does not hold this backup/)
    expect(readFileSync(join(directory, 'BACKUP_MANIFEST'), 'utf8')).toBe('an older backup')
    expect(readdirSync(directory)).toEqual(['BACKUP_MANIFEST'])
  })

  it('accepts a second run into a directory that already holds this same backup', async () => {
    await storeBackup(10)
    const first = await download()
    const second = await download()
    expect(second).toEqual(first)
    expect(logs.at(-1)).toMatch(/already holds this backup/)
  })

  it('refuses a directory holding the same file names and sizes but another manifest', async () => {
    const files = await storeBackup(10)
    const directory = join(workdir, 'lookalike')
    for (const [name, content] of files) {
      mkdirSync(join(directory, name, '..'), { recursive: true })
      writeFileSync(join(directory, name), name === 'BACKUP_MANIFEST' ? Buffer.alloc(content.length, 7) : content)
    }
    await expect(download(directory)).rejects.toThrow(/is not empty and does not hold this backup/)
  })

  it('refuses a stored name that would climb out of the directory', async () => {
    await storeBackup(10)
    await storeFile(db.admin, `${FOLDER}/data/../../../../escape`, Buffer.from('x'))
    await expect(download()).rejects.toThrow(/Refusing to download .*escape.*not a plain path/)
    expect(existsSync(join(workdir, 'escape'))).toBe(false)
  })

  it('fails clearly when the backup folder holds no manifest', async () => {
    await expect(download()).rejects.toThrow(/No BACKUP_MANIFEST under \/bank-backup\/2024\/05\/07-141012\.34/)
  })
})
