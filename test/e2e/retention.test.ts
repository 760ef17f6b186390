/**
 * keep-backups against the emulator: several full backups each with incrementals, a neighbouring
 * collection sharing the name's prefix, an explicit subdirectory and v25.4-style backup-index
 * entries; after the run, the rows left in the userfile tables are checked with SQL.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { runBundledAction } from '../support/run-action.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'

const PREFIX = 'defaultdb.public.userfiles_root'
const DAY_MS = 24 * 3600_000

const { emulators } = scratchPerTest('e2e-retention-')

async function filenames(emu: Emulator): Promise<string[]> {
  const client = new pg.Client({ connectionString: emu.connectionString() })
  await client.connect()
  try {
    const result = await client.query<{ filename: string }>(
      `SELECT filename FROM ${PREFIX}_upload_files WHERE filename LIKE $1 ORDER BY filename`,
      ['%']
    )
    return result.rows.map(row => row.filename)
  } finally {
    await client.end()
  }
}

/** Payload rows whose file row is gone: what a non-atomic delete would leave. */
function orphanChunks(emu: Emulator): number {
  const tables = emu.cluster.userfiles.get(PREFIX)
  const ids = new Set(tables?.files.map(f => f.fileId))
  return tables?.payload.filter(p => !ids.has(p.fileId)).length ?? 0
}

/** The index entries v25.4+ writes for a full backup and its layers (pkg/backup/backupdest/backup_index.go). */
function addIndexEntries(emu: Emulator, collectionPath: string, folder: string): string[] {
  const tables = emu.cluster.userfiles.get(PREFIX)
  if (!tables) throw new Error('no userfile tables')
  const names = [1, 2].map(n => `${collectionPath}/metadata/index/${folder.slice(1).replaceAll('/', '-')}/${n}_metadata.pb`)
  for (const [i, filename] of names.entries()) {
    const fileId = `00000000-0000-4000-a000-${String(tables.files.length + i).padStart(12, '0')}`
    tables.files.push({ filename, fileId, fileSize: 3, username: 'root', uploadTime: new Date() })
    tables.payload.push({ fileId, byteOffset: 0, payload: Buffer.from('idx') })
  }
  return names
}

/**
 * The index directories that hold a full backup's entries, however its version named them: the
 * emulator's entries name the layer's folder in their JSON stand-in for the proto; the ones
 * addIndexEntries made are named after the folder.
 */
function indexDirectoriesOf(emu: Emulator, folder: string): string[] {
  const tables = emu.cluster.userfiles.get(PREFIX)
  const dirs = new Set<string>()
  for (const file of tables?.files ?? []) {
    const match = /^\/bank-backup\/metadata\/index\/([^/]+)\//.exec(file.filename)
    if (!match) continue
    const payload = Buffer.concat((tables?.payload ?? []).filter(p => p.fileId === file.fileId).map(p => p.payload)).toString('utf8')
    const written = payload.startsWith('{') ? (JSON.parse(payload) as { path?: string }).path === folder : false
    if (written || match[1] === folder.slice(1).replaceAll('/', '-')) dirs.add(`/bank-backup/metadata/index/${match[1]}/`)
  }
  return [...dirs]
}

describe('keep-backups', () => {
  for (const profile of ['v23.2', 'v25.2', 'v25.4', 'v26.2'] as const) {
    it(`on ${profile} keeps the newest two full backups with their incrementals and nothing else changes`, async () => {
      let offsetMs = -5 * DAY_MS
      const emu = await startEmulator({ profile, jobDurationMs: 60, now: () => new Date(Date.now() + offsetMs) })
      emulators.push(emu)
      emu.createDatabase('bank', { accounts: { rows: 100, bytes: 6400 } })
      const backup = async (inputs: Record<string, string>) => {
        const run = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString(), ...inputs })
        expect(errorsOf(run.stdout)).toEqual([])
        return run
      }
      const fulls: string[] = []
      for (let day = 0; day < 3; day++) {
        fulls.push((await backup({})).outputs['backup-path']!)
        offsetMs += 3600_000
        await backup({ incremental: 'true' })
        offsetMs += DAY_MS - 3600_000
      }
      const neighbour = (await backup({ collection: `userfile://${PREFIX}/bank-backup-old` })).outputs['backup-path']!
      // Before v25.4 nothing writes the index: entries are added as v25.4 would have written them.
      const index = emu.profile.backupIndex === 'none' ? fulls.flatMap(folder => addIndexEntries(emu, '/bank-backup', folder)) : []
      const indexDirectories = fulls.map(folder => indexDirectoriesOf(emu, folder))
      expect(indexDirectories.every(dirs => dirs.length === 1)).toBe(true)
      // A three-level explicit subdirectory is listed by SHOW BACKUPS but is never deleted.
      const subdirectory = emu.cluster.userfiles.get(PREFIX)!
      for (const file of subdirectory.files.filter(f => f.filename.startsWith(`/bank-backup${fulls[0]}/`))) {
        subdirectory.files.push({
          ...file,
          filename: file.filename.replace(fulls[0]!, '/releases/v1/r42'),
          fileId: `${file.fileId.slice(0, -4)}beef`
        })
        subdirectory.payload.push(
          ...subdirectory.payload.filter(p => p.fileId === file.fileId).map(p => ({ ...p, fileId: `${file.fileId.slice(0, -4)}beef` }))
        )
      }
      const before = await filenames(emu)

      offsetMs += DAY_MS
      const run = await backup({ 'keep-backups': '2' })
      const newest = run.outputs['backup-path']!
      expect(run.outputs['deleted-backups']).toBe(`${fulls[0]},${fulls[1]}`)
      expect(run.summary).toContain('Deleted (keep-backups)')
      expect(run.stdout).toContain(`Deleted backup ${fulls[0]} (`)

      const after = await filenames(emu)
      const left = (i: number) =>
        [`/bank-backup${fulls[i]}/`, `/bank-backup/incrementals${fulls[i]}/`, ...indexDirectories[i]!].some(prefix =>
          after.some(name => name.startsWith(prefix))
        )
      expect(left(0)).toBe(false)
      expect(left(1)).toBe(false)
      expect(after.filter(name => name.startsWith(indexDirectories[2]![0]!)).length).toBeGreaterThan(0)
      // Everything else is still there, byte for byte the same list: the kept backup with its
      // incremental and index entries, the new one, the neighbour, the subdirectory, LATEST files.
      const removed = before.filter(name => !after.includes(name))
      expect(removed.length).toBeGreaterThan(0)
      for (const name of removed)
        expect(
          name.startsWith(`/bank-backup${fulls[0]}/`) ||
            name.startsWith(`/bank-backup${fulls[1]}/`) ||
            name.startsWith('/bank-backup/incrementals/') ||
            name.startsWith('/bank-backup/metadata/index/')
        ).toBe(true)
      expect(removed.filter(name => name.startsWith('/bank-backup/incrementals/')).every(name => !name.includes(fulls[2]!))).toBe(true)
      expect(after.filter(name => name.startsWith(`/bank-backup/incrementals${fulls[2]}/`)).length).toBeGreaterThan(0)
      expect(after.filter(name => name.startsWith(`/bank-backup${newest}/`)).length).toBeGreaterThan(0)
      expect(after.filter(name => name.startsWith(`/bank-backup-old${neighbour}/`)).length).toBeGreaterThan(0)
      expect(after.filter(name => name.startsWith('/bank-backup/releases/v1/r42/')).length).toBeGreaterThan(0)
      expect(index.filter(name => after.includes(name))).toEqual(index.slice(4))
      expect(orphanChunks(emu)).toBe(0)

      // SHOW BACKUPS agrees: the kept two and the subdirectory are listed, the deleted ones are not.
      const client = new pg.Client({ connectionString: emu.connectionString() })
      await client.connect()
      const listed = (await client.query<{ path: string }>(`SHOW BACKUPS IN 'userfile://${PREFIX}/bank-backup'`)).rows.map(r => r.path)
      await client.end()
      expect(listed).toEqual([fulls[2], newest, '/releases/v1/r42'])
    })
  }

  it('deletes nothing when the backup fails', async () => {
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 60 })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 100, bytes: 6400 } })
    const inputs = { database: 'bank', 'connection-string': emu.connectionString(), 'keep-backups': '1' }
    const first = await runInProcess(inputs)
    expect(errorsOf(first.stdout)).toEqual([])
    expect(first.outputs['deleted-backups']).toBe('')
    const before = await filenames(emu)
    emu.failNextJob({ message: 'disk full' })
    const failed = await runInProcess(inputs)
    expect(failed.exitCode).toBe(1)
    expect(failed.outputs['deleted-backups']).toBeUndefined()
    expect(await filenames(emu)).toEqual(before)
  })

  it('refuses other storages before connecting, pointing to lifecycle rules', async () => {
    const run = await runInProcess({ database: 'bank', collection: 's3://bucket/bank?AUTH=implicit', 'keep-backups': '3' })
    expect(errorsOf(run.stdout)).toEqual([
      "Input 'keep-backups': is for userfile:// collections only; for a s3:// collection, bucket lifecycle rules (object expiry) are the right tool."
    ])
  })

  /** Two full backups taken by the bundled action; returns their folders. */
  async function twoBackups(emu: Emulator): Promise<string[]> {
    const folders: string[] = []
    for (let i = 0; i < 2; i++) {
      const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
      expect(errorsOf(run.stdout)).toEqual([])
      folders.push(run.outputs['backup-path']!)
    }
    return folders
  }

  async function bankEmulator(): Promise<Emulator> {
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 60 })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 100, bytes: 6400 } })
    return emu
  }

  it('reports a backup whose COMMIT was applied but got no answer as deleted, and sets every output', async () => {
    const emu = await bankEmulator()
    const [first, second] = await twoBackups(emu)
    // The COMMIT runs, its answer waits, and the connection goes meanwhile: the deletion happened.
    emu.setQueryDelay(2_000, /^COMMIT/, { answer: true })
    const watch = setInterval(() => {
      if (emu.statements.some(s => s.sql === 'COMMIT')) {
        clearInterval(watch)
        emu.dropConnections()
      }
    }, 20)
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString(), 'keep-backups': '1' } })
    clearInterval(watch)
    expect(run.exitCode).toBe(1)
    expect(await filenames(emu).then(names => names.some(name => name.startsWith(`/bank-backup${first}/`)))).toBe(false)
    const [error] = errorsOf(run.stdout)
    expect(error).not.toContain('nothing of it was removed')
    expect(error).toContain(`keep-backups deleted ${first}, then stopped as its connection failed, so ${second} was not deleted:\n`)
    expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\//)
    expect(run.outputs['deleted-backups']).toBe(first)
    expect(run.outputs['rows']).toBe('100')
    expect(run.summary).toContain(
      `<code>${first}</code>; then keep-backups stopped as its connection failed; not attempted: ${second} (see the error below)`
    )
  })

  it('after a refused COMMIT, says what a new connection finds left', async () => {
    const emu = await bankEmulator()
    const [first] = await twoBackups(emu)
    const before = (await filenames(emu)).filter(name => name.startsWith(`/bank-backup${first}/`))
    emu.refuseStatements(/^COMMIT/, 'restart transaction: TransactionRetryWithProtoRefreshError', '40001')
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString(), 'keep-backups': '2' } })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)[0]).toContain(
      `keep-backups could not delete backup ${first} (its COMMIT failed, and a new connection still finds all ${before.length} of its files); no backup was deleted:\n`
    )
    expect(run.outputs['deleted-backups']).toBe('')
  })

  it('after a refused DELETE, says nothing was removed and still sets the backup outputs', async () => {
    const emu = await bankEmulator()
    const [first] = await twoBackups(emu)
    const before = await filenames(emu)
    emu.refuseStatements(/^DELETE FROM/, 'permission denied', '42501')
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString(), 'keep-backups': '2' } })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)[0]).toContain('nothing of it was removed); no backup was deleted:\n')
    expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\//)
    expect(run.outputs['deleted-backups']).toBe('')
    expect(run.summary).toContain(`none; then keep-backups could not delete ${first} (nothing of it was removed) (see the error below)`)
    expect((await filenames(emu)).filter(name => !before.includes(name)).length).toBeGreaterThan(0)
  })

  it('does not list a folder without files as deleted', async () => {
    const emu = await bankEmulator()
    const [first] = await twoBackups(emu)
    // SHOW BACKUPS lists an old folder of which the userfile tables hold nothing.
    const ghost = '/2000/01/01-000000.00'
    emu.tamperResults((column, value) => (column === 'path' && value === first ? ghost : value))
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString(), 'keep-backups': '2' } })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.outputs['deleted-backups']).toBe('')
    expect(run.stdout).toContain(`Backup ${ghost} is listed by SHOW BACKUPS, but`)
    expect((await filenames(emu)).some(name => name.startsWith(`/bank-backup${first}/`))).toBe(true)
  })
})
