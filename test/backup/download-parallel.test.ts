/**
 * download-connections against real PostgreSQL holding CockroachDB's userfile tables: several files
 * read at once over a small pool, byte for byte, and every pool connection closed afterwards,
 * whether the download succeeded, failed, was cut off or was cancelled (counted in pg_stat_activity).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { manifestChecksum } from '../../src/storage/backup-folder.js'
import { downloadBackup } from '../../src/backup/download.js'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { APPLICATION_NAME } from '../../src/base/constants.js'
import { userfileLocation } from '../../src/storage/userfile-location.js'
import { userfileDatabasePerTest } from '../support/userfile-database.js'
import { CHUNK, pseudoRandomBytes, storeFile } from '../support/userfile-tables.js'
import { listTree } from '../support/file-tree.js'

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'
const BACKUP = '/2024/05/07-141012.34'
const FOLDER = `/bank-backup${BACKUP}`

const db = userfileDatabasePerTest()
let workdir: string

beforeEach(() => {
  workdir = mkdtempSync(join(tmpdir(), 'download-parallel-'))
})
afterEach(() => {
  rmSync(workdir, { recursive: true, force: true })
})

const location = () => userfileLocation(COLLECTION, 'root')
const download = (session: Session, connections: number, directory = join(workdir, 'backup')) =>
  downloadBackup(session, location(), BACKUP, directory, () => undefined, { connections })

/** A manifest and its checksum, a few small files, and six multi-chunk data files. */
async function storeBackup(): Promise<Map<string, Buffer>> {
  const manifest = pseudoRandomBytes(70_001, 1)
  const files = new Map<string, Buffer>([
    ['BACKUP_MANIFEST', manifest],
    ['BACKUP_MANIFEST-CHECKSUM', manifestChecksum(manifest)],
    ['BACKUP-STATISTICS', Buffer.alloc(0)],
    ['progress/BACKUP-CHECKPOINT-1', pseudoRandomBytes(999, 2)]
  ])
  for (let i = 1; i <= 6; i++) files.set(`data/${i}.sst`, pseudoRandomBytes(2 * CHUNK + 1000 * i, 10 + i))
  for (const [name, content] of files) await storeFile(db.admin, `${FOLDER}/${name}`, content)
  return files
}

/** The server's connections from the action (by its application_name), other than `except`. */
async function ourBackends(except?: number): Promise<number[]> {
  const { rows } = await db.server.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> $2', [
    APPLICATION_NAME,
    except ?? 0
  ])
  return rows.map(row => (row as { pid: number }).pid)
}

/** Polls until `ourBackends` settles at `count` (a backend lingers a moment after its client goes). */
async function expectBackends(count: number, except?: number): Promise<void> {
  for (let i = 0; i < 200 && (await ourBackends(except)).length !== count; i++) await new Promise(r => setTimeout(r, 10))
  expect(await ourBackends(except)).toHaveLength(count)
}

const sessionPid = async (session: Session): Promise<number> =>
  (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid', [], 'reading the backend pid'))[0]?.pid ?? 0

/** Holds the payload table locked, so every chunk query waits inside the server until `release`. */
async function lockPayload(): Promise<{ release: () => Promise<void>; waiting: () => Promise<number[]> }> {
  const locker = new pg.Client({ connectionString: db.url })
  locker.on('error', () => undefined) // may be terminated with the rest
  await locker.connect()
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE userfiles_root_upload_payload IN ACCESS EXCLUSIVE MODE')
  return {
    release: () => locker.end().catch(() => undefined),
    waiting: async () =>
      (
        await db.server.query(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT%payload%' AND application_name = $1",
          [APPLICATION_NAME]
        )
      ).rows.map(row => (row as { pid: number }).pid)
  }
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await condition()); i++) await new Promise(r => setTimeout(r, 10))
  expect(await condition()).toBe(true)
}

describe('download-connections', () => {
  for (const connections of [1, 4]) {
    it(`with ${connections} reads ${connections} queries at once, byte for byte, and leaves only the step's session open`, async () => {
      const files = await storeBackup()
      const pid = await sessionPid(db.session)
      const lock = await lockPayload()
      const pending = download(db.session, connections)
      pending.catch(() => undefined) // awaited below
      await waitFor(async () => (await lock.waiting()).length === connections)
      await new Promise(r => setTimeout(r, 100)) // and no more than that
      expect(await lock.waiting()).toHaveLength(connections)
      expect(await lock.waiting()).toContain(pid) // the step's own session reads too
      await lock.release()
      const result = await pending
      expect(result.files).toBe(files.size)
      expect(listTree(result.directory)).toEqual([...files.keys()].sort())
      for (const [name, content] of files) expect(readFileSync(join(result.directory, name)).equals(content), name).toBe(true)
      await expectBackends(0, pid)
      expect(await ourBackends()).toEqual([pid])
    })
  }

  it('copies files stored in chunks of other sizes than 4 MiB byte for byte, four of them at once with chunks larger than that', async () => {
    const manifest = pseudoRandomBytes(50_000, 3)
    const files = new Map<string, Buffer>()
    // Listed first, so four connections hold room for a 4 MiB chunk each when 6 MiB ones arrive:
    // none may wait for more room, which only the others could give back.
    for (const [name, chunkSize] of [
      ...[1, 2, 3, 4].map(i => [`${i}.sst`, 6 * 1024 * 1024 + i] as const),
      ['data/one.sst', 1024 * 1024] as const,
      ['data/small.sst', 300 * 1024] as const
    ]) {
      const content = pseudoRandomBytes(13 * 1024 * 1024 + 17, chunkSize)
      files.set(name, content)
      await storeFile(db.admin, `${FOLDER}/${name}`, content, { chunkSize })
    }
    files.set('BACKUP_MANIFEST', manifest).set('BACKUP_MANIFEST-CHECKSUM', manifestChecksum(manifest))
    await storeFile(db.admin, `${FOLDER}/BACKUP_MANIFEST`, manifest)
    await storeFile(db.admin, `${FOLDER}/BACKUP_MANIFEST-CHECKSUM`, manifestChecksum(manifest))
    const lock = await lockPayload()
    const pending = download(db.session, 4)
    pending.catch(() => undefined) // awaited below
    await waitFor(async () => (await lock.waiting()).length === 4)
    await lock.release()
    const result = await pending
    expect(listTree(result.directory)).toEqual([...files.keys()].sort())
    for (const [name, content] of files) expect(readFileSync(join(result.directory, name)).equals(content), name).toBe(true)
  })

  it('opens no extra connection for a backup that is one group of small files', async () => {
    const manifest = pseudoRandomBytes(5000, 1)
    await storeFile(db.admin, `${FOLDER}/BACKUP_MANIFEST`, manifest)
    await storeFile(db.admin, `${FOLDER}/BACKUP_MANIFEST-CHECKSUM`, manifestChecksum(manifest))
    const pid = await sessionPid(db.session)
    let most = 0
    const watch = setInterval(() => void ourBackends(pid).then(pids => (most = Math.max(most, pids.length))), 2)
    const result = await download(db.session, 8)
    clearInterval(watch)
    expect(result.files).toBe(2)
    expect(most).toBe(0)
  })

  it("sets every pool connection up as the step's session, over role defaults for time zone and isolation", async () => {
    const files = await storeBackup()
    // The payload is visible only to a session pinned as the action pins its own: a connection left
    // with the role defaults set below would read no chunks, and its files would come up short.
    await db.admin.query('ALTER TABLE userfiles_root_upload_payload RENAME TO payload_rows')
    await db.admin.query(
      `CREATE VIEW userfiles_root_upload_payload AS SELECT * FROM payload_rows
         WHERE current_setting('TimeZone') = 'UTC' AND current_setting('default_transaction_isolation') = 'serializable'
           AND current_setting('application_name') = '${APPLICATION_NAME}'`
    )
    await db.server.query(`ALTER ROLE ${db.server.superuser} IN DATABASE defaultdb SET TimeZone = 'Asia/Tokyo'`)
    await db.server.query(`ALTER ROLE ${db.server.superuser} IN DATABASE defaultdb SET default_transaction_isolation = 'read committed'`)
    try {
      const result = await download(db.session, 4)
      for (const [name, content] of files) expect(readFileSync(join(result.directory, name)).equals(content), name).toBe(true)
    } finally {
      await db.server.query(`ALTER ROLE ${db.server.superuser} IN DATABASE defaultdb RESET ALL`)
    }
  })

  it('fails on a lying size in one stream and closes every pool connection', async () => {
    await storeBackup()
    await storeFile(db.admin, `${FOLDER}/data/7.sst`, pseudoRandomBytes(CHUNK + 10, 4), { fileSize: CHUNK + 11 })
    const pid = await sessionPid(db.session)
    await expect(download(db.session, 4)).rejects.toThrow(/data\/7\.sst is 4194315 bytes .* but its chunks hold 4194314/)
    expect(readdirSync(workdir)).toEqual([])
    await expectBackends(0, pid)
  })

  it('fails cleanly when one pool connection is killed mid-file, removing what it wrote and closing the rest', async () => {
    await storeBackup()
    const directory = join(workdir, 'existing')
    mkdirSync(directory)
    const pid = await sessionPid(db.session)
    const lock = await lockPayload()
    const pending = download(db.session, 4, directory)
    pending.catch(() => undefined) // awaited below
    await waitFor(async () => (await lock.waiting()).length === 4)
    const [victim] = (await lock.waiting()).filter(other => other !== pid)
    await db.server.query('SELECT pg_terminate_backend($1)', [victim])
    await expect(pending).rejects.toThrow(/While reading /)
    expect(readdirSync(directory)).toEqual([])
    await lock.release() // the abandoned backends notice their clients are gone once they stop waiting
    await expectBackends(0)
  })

  it('stops every stream on a cancel, removes what it wrote and closes every connection', async () => {
    await storeBackup()
    const idle = await sessionPid(db.session) // the fixture's session, not part of this download
    const controller = new AbortController()
    const session = await Session.open(parseConnectionString(db.url), { waitTimeoutMs: 5000, signal: controller.signal })
    try {
      const lock = await lockPayload()
      const pending = download(session, 4)
      pending.catch(() => undefined) // awaited below
      await waitFor(async () => (await lock.waiting()).length === 4)
      controller.abort('SIGINT')
      await expect(pending).rejects.toThrow(/cancel/i)
      expect(readdirSync(workdir)).toEqual([])
      await lock.release()
      await expectBackends(0, idle)
    } finally {
      await session.close()
    }
  })
})
