/**
 * Uploading a downloaded backup folder back into userfile storage, against a real PostgreSQL with
 * CockroachDB's two userfile tables: same layout, 4 MiB chunks, nothing half-written under a real
 * name, identical files left alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { manifestChecksum, readLocalBackupFolder } from '../../src/storage/backup-folder.js'
import { downloadBackup } from '../../src/backup/download.js'
import { readRestoreInputs } from '../../src/restore/inputs.js'
import { uploadBackup, uploadOrder } from '../../src/restore/upload.js'
import { StepCleanup } from '../../src/base/cleanup.js'
import { userfileLocation } from '../../src/storage/userfile-location.js'
import { userfileDatabasePerTest } from '../support/userfile-database.js'
import { CHUNK, pseudoRandomBytes } from '../support/userfile-tables.js'

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'
const BACKUP = '/2024/05/07-141012.34'

const db = userfileDatabasePerTest()
let workdir: string

beforeEach(() => {
  workdir = mkdtempSync(join(tmpdir(), 'upload-test-'))
})

afterEach(() => {
  rmSync(workdir, { recursive: true, force: true })
})

const location = () => userfileLocation(COLLECTION, 'postgres')

function writeFolder(dir: string, dataSize: number): Map<string, Buffer> {
  const manifest = pseudoRandomBytes(50_000, 11)
  const files = new Map<string, Buffer>([
    ['BACKUP_MANIFEST', manifest],
    ['BACKUP_MANIFEST-CHECKSUM', manifestChecksum(manifest)],
    ['BACKUP-STATISTICS', Buffer.alloc(0)],
    ['data/1.sst', pseudoRandomBytes(dataSize, 12)],
    ['incrementals/20240507/150000.00/BACKUP_MANIFEST', pseudoRandomBytes(3000, 13)]
  ])
  for (const [name, content] of files) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  return files
}

async function storedRows(): Promise<{ filename: string; file_id: string; file_size: string }[]> {
  return (await db.admin.query('SELECT filename, file_id, file_size FROM userfiles_root_upload_files ORDER BY filename')).rows
}

describe('uploadBackup against real PostgreSQL', () => {
  it('lays the files out as CockroachDB does, in 4 MiB chunks, and downloads back byte for byte', async () => {
    const source = join(workdir, 'source')
    const files = writeFolder(source, 2 * CHUNK + 777)
    const result = await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)
    expect(result).toMatchObject({ files: 5, written: 5, unchanged: 0, bytes: [...files.values()].reduce((s, b) => s + b.length, 0) })
    expect((await storedRows()).map(row => row.filename)).toEqual([
      '/bank-backup/2024/05/07-141012.34/BACKUP-STATISTICS',
      '/bank-backup/2024/05/07-141012.34/BACKUP_MANIFEST',
      '/bank-backup/2024/05/07-141012.34/BACKUP_MANIFEST-CHECKSUM',
      '/bank-backup/2024/05/07-141012.34/data/1.sst',
      '/bank-backup/incrementals/2024/05/07-141012.34/20240507/150000.00/BACKUP_MANIFEST'
    ])
    const chunks = await db.admin.query<{ byte_offset: string; length: number }>(
      `SELECT p.byte_offset, length(p.payload) AS length FROM userfiles_root_upload_payload p JOIN userfiles_root_upload_files f USING (file_id) WHERE f.filename LIKE '%/data/1.sst' ORDER BY p.byte_offset`
    )
    expect(chunks.rows.map(row => [Number(row.byte_offset), row.length])).toEqual([
      [0, CHUNK],
      [CHUNK, CHUNK],
      [2 * CHUNK, 777]
    ])
    const back = await downloadBackup(db.session, location(), BACKUP, join(workdir, 'back'), () => undefined)
    expect(back.files).toBe(5)
    const { readFileSync } = await import('node:fs')
    for (const [name, content] of files) expect(readFileSync(join(back.directory, name)).equals(content), name).toBe(true)
  })

  it('leaves identical files alone, and refuses a folder whose stored files hold other bytes before writing anything', async () => {
    const source = join(workdir, 'source')
    writeFolder(source, 1000)
    await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)
    const before = await storedRows()
    const again = await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)
    expect(again).toMatchObject({ written: 0, unchanged: 5 })
    writeFileSync(join(source, 'data/1.sst'), pseudoRandomBytes(1000, 99)) // same size, other bytes
    writeFileSync(join(source, 'data/2.sst'), pseudoRandomBytes(10, 98)) // and a new file
    await expect(uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)).rejects.toThrow(
      /\/bank-backup\/2024\/05\/07-141012\.34\/data\/1\.sst already exists in defaultdb\.public\.userfiles_root with other content: .*Nothing was uploaded\./
    )
    expect(await storedRows()).toEqual(before)
  })

  it('until kept, a failed step deletes the files this run uploaded, and only those', async () => {
    const source = join(workdir, 'source')
    writeFolder(source, 1000)
    await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)
    const before = await storedRows()
    const chunks = async () => (await db.admin.query<{ n: string }>('SELECT count(*) AS n FROM userfiles_root_upload_payload')).rows[0]?.n
    const chunksBefore = await chunks()
    writeFileSync(join(source, 'data/2.sst'), pseudoRandomBytes(3 * CHUNK, 98))
    const cleanup = new StepCleanup()
    const upload = await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined, cleanup)
    expect(upload).toMatchObject({ written: 1, unchanged: 5 })
    expect(await storedRows()).toHaveLength(6)
    expect(await cleanup.undoAll()).toEqual([`Deleted the 1 files this run uploaded to /bank-backup${BACKUP}.`])
    expect(await storedRows()).toEqual(before)
    expect(await chunks()).toBe(chunksBefore)
    const kept = new StepCleanup()
    ;(await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined, kept)).keep()
    expect(await kept.undoAll()).toEqual([])
    expect(await storedRows()).toHaveLength(6)
  })

  it('uploads the index entries, the checksum and the manifest last', () => {
    expect(
      uploadOrder([
        'BACKUP_MANIFEST',
        'index/a',
        'BACKUP_MANIFEST-CHECKSUM',
        'data/1.sst',
        'incrementals/x/BACKUP_MANIFEST',
        'BACKUP-STATISTICS'
      ])
    ).toEqual([
      'BACKUP-STATISTICS',
      'data/1.sst',
      'incrementals/x/BACKUP_MANIFEST',
      'index/a',
      'BACKUP_MANIFEST-CHECKSUM',
      'BACKUP_MANIFEST'
    ])
  })

  it('refuses a folder whose manifest does not match its checksum before anything is written', async () => {
    const source = join(workdir, 'source')
    writeFolder(source, 10)
    writeFileSync(join(source, 'BACKUP_MANIFEST-CHECKSUM'), Buffer.from([0, 0, 0, 0]))
    await expect(readLocalBackupFolder(source)).rejects.toThrow(/BACKUP_MANIFEST does not match BACKUP_MANIFEST-CHECKSUM/)
    expect(await storedRows()).toEqual([])
  })

  it('refuses a folder without BACKUP_MANIFEST, and a source-path that is no directory, naming the input', async () => {
    mkdirSync(join(workdir, 'empty'))
    writeFileSync(join(workdir, 'file'), 'x')
    const read = (sourcePath: string) => (name: string) => ({ database: 'bank', 'backup-path': BACKUP, 'source-path': sourcePath })[name]
    await expect(readRestoreInputs(read(join(workdir, 'empty')), () => undefined)).rejects.toThrow(
      /^Input 'source-path': .*holds no BACKUP_MANIFEST/
    )
    await expect(readRestoreInputs(read(join(workdir, 'file')), () => undefined)).rejects.toThrow(
      /^Input 'source-path': .*file is not a directory/
    )
    const source = join(workdir, 'source')
    writeFolder(source, 10)
    expect((await readRestoreInputs(read(source), () => undefined)).sourcePath).toBe(source)
  })

  it('never leaves a half file under its real name when the connection dies mid-upload, and a rerun cleans up', async () => {
    const source = join(workdir, 'source')
    writeFolder(source, 20 * CHUNK)
    const pending = uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)
    pending.catch(() => undefined) // asserted below
    for (let i = 0; i < 500; i++) {
      const { rows } = await db.admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM userfiles_root_upload_payload p JOIN userfiles_root_upload_files f USING (file_id) WHERE f.filename LIKE '%1.sst.tmp'`
      )
      if (Number(rows[0]?.n) > 2) break
      await new Promise(r => setTimeout(r, 10))
    }
    await db.server.terminateBackends()
    await expect(pending).rejects.toThrow(/While uploading/)
    const check = new pg.Client({ connectionString: db.url })
    await check.connect()
    try {
      const names = (await check.query<{ filename: string }>('SELECT filename FROM userfiles_root_upload_files')).rows.map(
        row => row.filename
      )
      expect(names.some(name => name.endsWith('/data/1.sst'))).toBe(false)
      await db.session.close()
      db.session = await Session.open(parseConnectionString(db.url), {
        waitTimeoutMs: 5000
      })
      await uploadBackup(db.session, location(), BACKUP, await readLocalBackupFolder(source), () => undefined)
      const after = (await check.query<{ filename: string }>('SELECT filename FROM userfiles_root_upload_files')).rows.map(
        row => row.filename
      )
      expect(after.filter(name => name.endsWith('.tmp'))).toEqual([])
      expect(after).toHaveLength(5)
    } finally {
      await check.end()
    }
  })
})
