/**
 * keep-backups: which backups go (pure), which stored names belong to a backup, and the deletion
 * SQL with its transaction on a real PostgreSQL holding CockroachDB-shaped userfile tables.
 */
import { describe, expect, it } from 'vitest'
import { backupFilePrefixes, deleteBackup, planRetention } from '../../src/backup/retention.js'
import { userfileLocation } from '../../src/storage/userfile-location.js'
import { userfileDatabasePerTest } from '../support/userfile-database.js'
import { CHUNK, pseudoRandomBytes, storeFile } from '../support/userfile-tables.js'

describe('planRetention', () => {
  const listed = ['/2024/05/01-020000.00', '/2024/05/03-020000.00', '/release-42', '/2024/05/02-020000.00', '/2024/05/04-020000.00']

  it('keeps the newest by folder name and deletes the rest, oldest first', () => {
    expect(planRetention(listed, 2, '/2024/05/04-020000.00')).toEqual({
      kept: ['/2024/05/03-020000.00', '/2024/05/04-020000.00'],
      removed: ['/2024/05/01-020000.00', '/2024/05/02-020000.00'],
      subdirectories: ['/release-42']
    })
  })

  it('never deletes the backup this step made, even when it is not among the newest', () => {
    const plan = planRetention(listed, 1, '/2024/05/02-020000.00')
    expect(plan.removed).toEqual(['/2024/05/01-020000.00', '/2024/05/03-020000.00'])
    expect(plan.kept).toEqual(['/2024/05/02-020000.00', '/2024/05/04-020000.00'])
  })

  it('never deletes or counts an explicit subdirectory', () => {
    expect(planRetention(['/release-42', '/nightly'], 1, '/release-42')).toEqual({
      kept: [],
      removed: [],
      subdirectories: ['/release-42', '/nightly']
    })
  })

  it('reads slashless listings (early 2021, storage root) as the same folders', () => {
    const plan = planRetention(['2024/05/01-020000.00', '2024/05/02-020000.00', '/2024/05/02-020000.00'], 1, '/2024/05/02-020000.00')
    expect(plan.removed).toEqual(['2024/05/01-020000.00'])
    expect(plan.kept).toEqual(['/2024/05/02-020000.00'])
  })

  it('deletes nothing when there are no more than keep backups', () => {
    expect(planRetention(listed.slice(0, 2), 2, '/2024/05/03-020000.00').removed).toEqual([])
  })
})

describe('the stored names of one backup', () => {
  it('are its folder and its incrementals, each ending in a slash (index directories are found by listing)', () => {
    const location = userfileLocation('userfile://defaultdb.public.userfiles_root/bank-backup', 'root')
    expect(backupFilePrefixes(location, '/2024/05/01-020000.00')).toEqual([
      '/bank-backup/2024/05/01-020000.00/',
      '/bank-backup/incrementals/2024/05/01-020000.00/'
    ])
  })

  it('at the storage root, and for a slashless listing', () => {
    const location = userfileLocation('userfile://defaultdb.public.userfiles_root', 'root')
    expect(backupFilePrefixes(location, '2024/05/01-020000.00')[0]).toBe('/2024/05/01-020000.00/')
  })
})

const OLD = '/2024/05/01-020000.00'
const NEW = '/2024/05/02-020000.00'

/** The v26.1+ index directory names of OLD and NEW (EncodeDescendingTS of the end time, then the stamp). */
const V26_DIRECTORY: Record<string, string> = {
  '/2024/05/01-020000.00': '82fe70ce1eb2ff_20240501-020000.00',
  '/2024/05/02-020000.00': '82fe70c8f856ff_20240502-020000.00'
}

/**
 * Files of a full backup with one incremental layer and its index entries, in both the v25.4 and
 * the v26.1+ directory (a collection a v25.4 cluster wrote and a v26.1 one appended to), and under
 * the `index/` root where v25.4 may keep them (the second reading of the source, facts §16).
 */
function backupFiles(collection: string, folder: string): string[] {
  const flat = folder.slice(1).replaceAll('/', '-')
  return [
    `${collection}/metadata/index/${V26_DIRECTORY[folder] ?? ''}/82fe70ce1eb2ff_0_20240501-020000.00_metadata.pb`,
    `${collection}${folder}/BACKUP_MANIFEST`,
    `${collection}${folder}/BACKUP_MANIFEST-CHECKSUM`,
    `${collection}${folder}/data/1.sst`,
    `${collection}/incrementals${folder}/20240501/030000.00-20240501-020000.00/BACKUP_MANIFEST`,
    `${collection}/incrementals${folder}/20240501/030000.00-20240501-020000.00/data/2.sst`,
    `${collection}/metadata/index/${flat}/7977495879999999_0_20240501-020000.00_metadata.pb`,
    `${collection}/metadata/index/${flat}/7977495869999999_20240501-020000.00_20240501-030000.00_metadata.pb`,
    `${collection}/index/${flat}/7977495879999999_0_20240501-020000.00_metadata.pb`
  ]
}

describe('deleteBackup on PostgreSQL with userfile tables', () => {
  const db = userfileDatabasePerTest()

  /** The collection `/bank_backup` (an underscore, a LIKE wildcard) and neighbours that share its prefix. */
  async function seed(): Promise<void> {
    const names = [
      ...backupFiles('/bank_backup', OLD),
      ...backupFiles('/bank_backup', NEW),
      ...backupFiles('/bank_backup-old', OLD),
      ...backupFiles('/bankXbackup', OLD),
      `/bank_backup${OLD}-not-a-chunk-of-it`,
      '/bank_backup/LATEST',
      `/bank_backup/metadata/latest/LATEST-7977495879999999`
    ]
    for (const [i, name] of names.entries())
      await storeFile(db.admin, name, pseudoRandomBytes(name.endsWith('1.sst') ? CHUNK + 10 : 100, i + 1))
  }

  async function filenames(): Promise<string[]> {
    const result = await db.admin.query<{ filename: string }>('SELECT filename FROM userfiles_root_upload_files ORDER BY filename')
    return result.rows.map(row => row.filename)
  }

  async function orphanChunks(): Promise<number> {
    const result = await db.admin.query<{ n: string }>(
      'SELECT count(*) AS n FROM userfiles_root_upload_payload p WHERE NOT EXISTS (SELECT 1 FROM userfiles_root_upload_files f WHERE f.file_id = p.file_id)'
    )
    return Number(result.rows[0]?.n)
  }

  async function chunks(): Promise<number> {
    return Number((await db.admin.query<{ n: string }>('SELECT count(*) AS n FROM userfiles_root_upload_payload')).rows[0]?.n)
  }

  const location = () => userfileLocation('userfile://userfiles_root/bank_backup', 'root')

  it('removes exactly the backup, its incrementals and its index entries, and their chunks', async () => {
    await seed()
    const before = await filenames()
    const chunksBefore = await chunks()
    const gone = backupFiles('/bank_backup', OLD)
    expect(await deleteBackup(db.session, location(), OLD)).toBe(gone.length)
    expect(await filenames()).toEqual(before.filter(name => !gone.includes(name)))
    // data/1.sst had two chunks; every other file one.
    expect(await chunks()).toBe(chunksBefore - gone.length - 1)
    expect(await orphanChunks()).toBe(0)
  })

  it('rolls back the whole backup when a statement fails half-way', async () => {
    await seed()
    // The file rows of OLD's incremental refuse to go, after its folder's chunks and rows have gone
    // and the chunks of the incremental have gone in the same transaction.
    await db.admin.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refusing to delete %', OLD.filename; END $$`)
    await db.admin.query(`CREATE TRIGGER refuse BEFORE DELETE ON userfiles_root_upload_files FOR EACH ROW
      WHEN (OLD.filename LIKE '/bank\\_backup/incrementals/%') EXECUTE FUNCTION refuse()`)
    const before = await filenames()
    const chunksBefore = await chunks()
    await expect(deleteBackup(db.session, location(), OLD)).rejects.toThrow(/refusing to delete \/bank_backup\/incrementals/)
    expect(await filenames()).toEqual(before)
    expect(await chunks()).toBe(chunksBefore)
    // The session is usable again: the transaction was rolled back, not left open.
    await db.admin.query('DROP TRIGGER refuse ON userfiles_root_upload_files')
    expect(await deleteBackup(db.session, location(), OLD)).toBe(backupFiles('/bank_backup', OLD).length)
    expect(await orphanChunks()).toBe(0)
  })
})
