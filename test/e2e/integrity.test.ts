/**
 * Download integrity and errors a user can act on, on real file systems: colliding stored names,
 * a missing manifest checksum, a same-size corrupt file in a directory that "already holds" the
 * backup, download-path checked before the BACKUP runs, outputs kept when only the download fails,
 * and Node's file-system errors turned into messages naming the input and the path.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Session } from '../../src/cluster/connection.js'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { downloadBackup } from '../../src/backup/download.js'
import { userfileLocation } from '../../src/storage/userfile-location.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'

const { emulators, tempDir } = scratchPerTest('e2e-integrity-')
const sessions: Session[] = []

// Registered after the scratch's hook, so it runs first: sessions close before their emulators.
afterEach(async () => {
  await Promise.all(sessions.splice(0).map(session => session.close()))
})

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'

async function bankWithBackup(profile: 'v21.2' | 'v23.2' = 'v23.2'): Promise<{ emu: Emulator; path: string }> {
  const emu = await startEmulator({ profile, jobDurationMs: 100 })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
  const run = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
  expect(run.exitCode).toBe(0)
  return { emu, path: run.outputs['backup-path'] ?? '' }
}

async function session(emu: Emulator): Promise<Session> {
  const opened = await Session.open(parseConnectionString(emu.connectionString()), { waitTimeoutMs: 5000 })
  sessions.push(opened)
  return opened
}

function storedFiles(emu: Emulator) {
  const tables = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')
  if (!tables) throw new Error('no userfile tables')
  return tables
}

/** Adds a stored file straight into the emulator's userfile tables, as another writer could. */
function addStoredFile(emu: Emulator, filename: string, content: Buffer): void {
  const tables = storedFiles(emu)
  const template = tables.files[0]!
  const fileId = `00000000-0000-4000-8000-${String(tables.files.length).padStart(12, '0')}`
  tables.files.push({ ...template, filename, fileId, fileSize: content.length })
  tables.payload.push({ fileId, byteOffset: 0, payload: content })
}

async function download(emu: Emulator, path: string, directory: string, warnings: string[] = []) {
  const s = await session(emu)
  return downloadBackup(s, userfileLocation(COLLECTION, 'root'), path, directory, () => undefined, {
    version: s.info.version,
    warn: message => warnings.push(message)
  })
}

describe('stored names', () => {
  it("refuses a main-folder incrementals/x that collides with an incremental layer's x, writing nothing", async () => {
    const { emu, path } = await bankWithBackup()
    addStoredFile(emu, `/bank-backup${path}/incrementals/x`, Buffer.from('main'))
    addStoredFile(emu, `/bank-backup/incrementals${path}/x`, Buffer.from('layer'))
    const target = join(tempDir(), 'backup')
    await expect(download(emu, path, target)).rejects.toThrow(/would both be downloaded as incrementals\/x/)
    expect(existsSync(target)).toBe(false)
  })

  it('refuses a file where another needs a folder', async () => {
    const { emu, path } = await bankWithBackup()
    addStoredFile(emu, `/bank-backup${path}/data`, Buffer.from('a file named data'))
    await expect(download(emu, path, join(tempDir(), 'backup'))).rejects.toThrow(/is a file where .* needs a folder/)
  })
})

describe('BACKUP_MANIFEST-CHECKSUM', () => {
  function dropChecksum(emu: Emulator, path: string): void {
    const tables = storedFiles(emu)
    tables.files = tables.files.filter(file => file.filename !== `/bank-backup${path}/BACKUP_MANIFEST-CHECKSUM`)
  }

  it('missing on v22.2+ (which always writes one): the download fails and leaves nothing', async () => {
    const { emu, path } = await bankWithBackup('v23.2')
    dropChecksum(emu, path)
    const target = join(tempDir(), 'backup')
    await expect(download(emu, path, target)).rejects.toThrow(/BACKUP_MANIFEST has no BACKUP_MANIFEST-CHECKSUM .* always writes/)
    expect(existsSync(target)).toBe(false)
  })

  it('missing on v21.2: a warning, and the download completes', async () => {
    const { emu, path } = await bankWithBackup('v21.2')
    dropChecksum(emu, path)
    const warnings: string[] = []
    const result = await download(emu, path, join(tempDir(), 'backup'), warnings)
    expect(warnings.join('\n')).toMatch(/has no BACKUP_MANIFEST-CHECKSUM next to it, so it cannot be checked/)
    expect(result.files).toBe(
      readdirSync(result.directory, { recursive: true }).filter(e => !lstatSync(join(result.directory, String(e))).isDirectory()).length
    )
  })
})

describe('a directory that already holds the backup', () => {
  it('is accepted when every file has the same bytes, refused when a same-size .sst differs', async () => {
    const { emu, path } = await bankWithBackup()
    const target = join(tempDir(), 'backup')
    const first = await download(emu, path, target)
    expect((await download(emu, path, target)).files).toBe(first.files)
    const sst = readdirSync(join(target, 'data'))[0]!
    const bytes = readFileSync(join(target, 'data', sst))
    bytes[0] = bytes[0]! ^ 0xff
    writeFileSync(join(target, 'data', sst), bytes)
    await expect(download(emu, path, target)).rejects.toThrow(/is not empty and does not hold this backup/)
    expect(readFileSync(join(target, 'data', sst)).equals(bytes)).toBe(true) // left as the user had it
  })
})

describe('download-path, checked before the BACKUP runs', () => {
  async function bank(): Promise<Emulator> {
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 100 })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 10, bytes: 100 } })
    return emu
  }
  const backups = (emu: Emulator) => emu.statements.filter(s => s.sql.startsWith('BACKUP'))

  it('refuses a dangling symbolic link and leaves it there', async () => {
    const emu = await bank()
    const link = join(tempDir(), 'link')
    symlinkSync(join(tempDir(), 'nowhere'), link)
    const run = await runInProcess({ database: 'bank', 'download-path': link, 'connection-string': emu.connectionString() })
    expect(errorsOf(run.stdout).join('\n')).toMatch(/^Input 'download-path': .*link is a symbolic link to something that does not exist/)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(emu.statements).toEqual([]) // checked with the inputs, before connecting
    expect(run.stdout).not.toContain('Connecting to CockroachDB')
  })

  it('refuses a non-empty directory that holds no backup', async () => {
    const emu = await bank()
    const dir = tempDir()
    writeFileSync(join(dir, 'notes.txt'), 'mine')
    const run = await runInProcess({ database: 'bank', 'download-path': dir, 'connection-string': emu.connectionString() })
    expect(errorsOf(run.stdout).join('\n')).toMatch(/^Input 'download-path': .* is not empty and holds no backup/)
    expect(emu.statements).toEqual([])
    expect(readdirSync(dir)).toEqual(['notes.txt'])
  })

  it('names the input and the path when a part of it is a file (ENOTDIR)', async () => {
    const emu = await bank()
    const file = join(tempDir(), 'file')
    writeFileSync(file, 'x')
    const run = await runInProcess({ database: 'bank', 'download-path': join(file, 'backup'), 'connection-string': emu.connectionString() })
    expect(errorsOf(run.stdout).join('\n')).toMatch(
      /^Input 'download-path': .*file is a file, so .* cannot be made|^Input 'download-path': .*\(ENOTDIR\)/
    )
    expect(backups(emu)).toEqual([])
  })

  it('names the input and the path when a name is too long (ENAMETOOLONG)', async () => {
    const emu = await bank()
    const run = await runInProcess({
      database: 'bank',
      'download-path': join(tempDir(), 'x'.repeat(300)),
      'connection-string': emu.connectionString()
    })
    expect(errorsOf(run.stdout).join('\n')).toMatch(
      /^Input 'download-path': .*x{300}: the path \(or one of its names\) is too long .*\(ENAMETOOLONG\)/
    )
    expect(backups(emu)).toEqual([])
  })
})

describe('a download that fails after the backup succeeded', () => {
  it('still sets backup-path, job-id, collection and restore-statement, then fails', async () => {
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 100 })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 10, bytes: 100 } })
    // A stored name that is no plain path: the download refuses it, after BACKUP and SHOW BACKUP.
    emu.tamperResults((column, value) =>
      column === 'filename' && value.endsWith('.sst') ? value.replace('/data/', '/data/../../') : value
    )
    const target = join(tempDir(), 'backup')
    const run = await runInProcess({ database: 'bank', 'download-path': target, 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(/Refusing to download/)
    expect(Object.keys(run.outputs).sort()).toEqual(['backup-path', 'collection', 'job-id', 'restore-statement'])
    expect(run.outputs['restore-statement']).toContain(`FROM '${run.outputs['backup-path']}'`)
    expect(existsSync(target)).toBe(false)
  })
})
