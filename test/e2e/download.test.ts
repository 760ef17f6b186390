/**
 * download-path end to end: the backup the emulator wrote into its userfile tables comes back to
 * the runner through the same SQL a real cluster answers, byte for byte.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { manifestChecksum } from '../../src/storage/backup-folder.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { runBundledAction } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'
import { listTree } from '../support/file-tree.js'

expectNoInternalsInAnyStatement()

const { emulators, tempDir } = scratchPerTest('e2e-download-')

/** What the emulator stored for a folder, read straight from its userfile rows. */
function stored(emu: Emulator, folder: string): Map<string, Buffer> {
  const tables = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')
  const files = new Map<string, Buffer>()
  for (const file of tables?.files ?? []) {
    if (!file.filename.startsWith(`${folder}/`)) continue
    const chunks = (tables?.payload ?? []).filter(p => p.fileId === file.fileId).sort((a, b) => a.byteOffset - b.byteOffset)
    files.set(file.filename.slice(folder.length + 1), Buffer.concat(chunks.map(c => c.payload)))
  }
  return files
}

describe('download-path', () => {
  for (const profile of ['v21.2', 'v23.2', 'v25.2', 'v25.4', 'v26.1', 'v26.2'] as const) {
    it(`on ${profile} copies the new backup folder to the runner, byte for byte`, async () => {
      const emulator = await startEmulator({ profile, jobDurationMs: 100 })
      emulators.push(emulator)
      emulator.createDatabase('bank', { accounts: { rows: 5000, bytes: 9 * 1024 * 1024 }, transfers: { rows: 10, bytes: 1000 } })
      const target = join(tempDir(), 'bank-backup')
      const run = await runInProcess({ database: 'bank', 'download-path': target, 'connection-string': emulator.connectionString() })
      expect(errorsOf(run.stdout)).toEqual([])
      const { outputs } = run
      expect(outputs['download-path']).toBe(target)
      const expected = stored(emulator, `/bank-backup${outputs['backup-path']}`)
      expect(expected.size).toBeGreaterThan(2)
      // v25.4+ also writes one backup index entry per layer, in a directory whose name changed in
      // v26.1 (facts §16); the download keeps that exact name under index/.
      const index = stored(emulator, '/bank-backup/metadata/index')
      const path = outputs['backup-path'] ?? ''
      const stamp = path.replace(/^\/(\d{4})\/(\d{2})\/(\d{2})-/, '$1$2$3-')
      const directory = {
        none: /^$/,
        'flattened-folder': /^\d{4}-\d{2}-\d{2}-\d{6}\.\d{2}$/,
        'descending-end-time': /^82[0-9a-f]{12}_\d{8}-\d{6}\.\d{2}$/
      }[emulator.profile.backupIndex]
      expect(index.size).toBe(emulator.profile.backupIndex === 'none' ? 0 : 1)
      for (const [name, bytes] of index) {
        const [dir = ''] = name.split('/')
        expect(dir).toMatch(directory)
        expect(dir.endsWith(emulator.profile.backupIndex === 'flattened-folder' ? path.slice(1).replaceAll('/', '-') : `_${stamp}`)).toBe(
          true
        )
        expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({ path })
        expected.set(`index/${name}`, bytes)
      }
      expect(listTree(target)).toEqual([...expected.keys()].sort())
      for (const [name, bytes] of expected) expect(readFileSync(join(target, name)).equals(bytes), name).toBe(true)
      expect(outputs['files']).toBe(String(expected.size))
      expect(outputs['downloaded-bytes']).toBe(String([...expected.values()].reduce((sum, b) => sum + b.length, 0)))
      const manifest = readFileSync(join(target, 'BACKUP_MANIFEST'))
      expect(manifestChecksum(manifest).equals(readFileSync(join(target, 'BACKUP_MANIFEST-CHECKSUM')))).toBe(true)
      expect(run.summary).toContain(`${expected.size} files`)
      expect(run.summary).toContain('ready for actions/upload-artifact')
      expect(run.summary).not.toContain(target) // a runner path means nothing once the job is over
      expect(run.stdout).toMatch(/::group::Verify\n[\s\S]*::endgroup::\n::group::Download\nDownloaded \d+ files/)
    })
  }

  for (const connections of ['1', '4']) {
    it(`on the bundle with download-connections ${connections} copies a backup of several large files, byte for byte`, async () => {
      const emulator = await startEmulator({ profile: 'v25.2', jobDurationMs: 50 })
      emulators.push(emulator)
      emulator.createDatabase('bank', {
        accounts: { rows: 5000, bytes: 9 * 1024 * 1024 },
        transfers: { rows: 5000, bytes: 6 * 1024 * 1024 },
        branches: { rows: 10, bytes: 1000 }
      })
      const target = join(tempDir(), 'bank-backup')
      const run = await runBundledAction({
        inputs: {
          database: 'bank',
          'download-path': target,
          'download-connections': connections,
          'connection-string': emulator.connectionString()
        }
      })
      expect(errorsOf(run.stdout)).toEqual([])
      const expected = stored(emulator, `/bank-backup${run.outputs['backup-path']}`)
      expect(listTree(target)).toEqual([...expected.keys()].sort())
      for (const [name, bytes] of expected) expect(readFileSync(join(target, name)).equals(bytes), name).toBe(true)
      expect(run.outputs['files']).toBe(String(expected.size))
    })
  }

  it('on the bundle with download-connections 4 fails cleanly when pool connections are killed mid-file', async () => {
    const emulator = await startEmulator({ profile: 'v25.2', jobDurationMs: 50 })
    emulators.push(emulator)
    emulator.createDatabase('bank', {
      accounts: { rows: 5000, bytes: 9 * 1024 * 1024 },
      transfers: { rows: 5000, bytes: 9 * 1024 * 1024 },
      history: { rows: 5000, bytes: 9 * 1024 * 1024 },
      branches: { rows: 10, bytes: 1000 }
    })
    // Every read waits a moment, so the pool's connections read at once; the first read is the
    // step's own session's (it opens no connection first), and every later one loses its connection
    // half-way through its chunks.
    emulator.setQueryDelay(200, /\bpayload FROM\b/)
    emulator.cutConnectionsMidAnswer(/\bpayload FROM\b/, 1)
    const target = join(tempDir(), 'out', 'bank-backup')
    const run = await runBundledAction({
      inputs: {
        database: 'bank',
        'download-path': target,
        'download-connections': '4',
        'connection-string': emulator.connectionString()
      }
    })
    expect(run.exitCode).toBe(1)
    const errors = errorsOf(run.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^While reading .*: Connection terminated unexpectedly/)
    expect(emulator.statements.filter(s => /\bpayload FROM\b/.test(s.sql)).length).toBeGreaterThan(1)
    // The backup is whole; only the download failed, and what it wrote is gone.
    expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2}$/)
    expect(existsSync(join(tempDir(), 'out'))).toBe(false)
  })

  it('refuses download-connections 0 on the bundle, naming the input, before connecting', async () => {
    const emulator = await startEmulator({ profile: 'v23.2' })
    emulators.push(emulator)
    const run = await runBundledAction({
      inputs: {
        database: 'bank',
        'download-path': join(tempDir(), 'x'),
        'download-connections': '0',
        'connection-string': emulator.connectionString()
      }
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      `Input 'download-connections': "0" is not a whole number from 1 to 16 (1 reads one file at a time; empty means 4).`
    ])
    expect(emulator.statements).toEqual([])
  })

  it('gives a notice that unencrypted files are readable by anyone who can read the artifact, and none when encrypted', async () => {
    const emulator = await startEmulator({ profile: 'v23.2', jobDurationMs: 50 })
    emulators.push(emulator)
    emulator.createDatabase('bank', { accounts: { rows: 10, bytes: 1000 } })
    const notices = (stdout: string) => stdout.split('\n').filter(line => line.startsWith('::notice::'))
    const plain = await runInProcess({
      database: 'bank',
      'download-path': join(tempDir(), 'plain'),
      'connection-string': emulator.connectionString()
    })
    expect(errorsOf(plain.stdout)).toEqual([])
    expect(notices(plain.stdout)).toEqual([
      '::notice::download-path is set without encryption-passphrase: the downloaded backup files are not encrypted, and anyone who can read them (an artifact of a public repository: any signed-in GitHub user) can read the data. Set encryption-passphrase from a secret.'
    ])
    const encrypted = await runInProcess({
      database: 'bank',
      'download-path': join(tempDir(), 'encrypted'),
      'encryption-passphrase': 'correct horse',
      'connection-string': emulator.connectionString()
    })
    expect(errorsOf(encrypted.stdout)).toEqual([])
    expect(notices(encrypted.stdout)).toEqual([])
    const withoutDownload = await runInProcess({ database: 'bank', 'connection-string': emulator.connectionString() })
    expect(notices(withoutDownload.stdout)).toEqual([])
  })

  it('brings the incremental layers along, under incrementals/', async () => {
    let offsetMs = 0
    const emulator = await startEmulator({ profile: 'v23.2', jobDurationMs: 100, now: () => new Date(Date.now() + offsetMs) })
    emulators.push(emulator)
    emulator.createDatabase('bank', { accounts: { rows: 50, bytes: 5000 } })
    const full = await runInProcess({ database: 'bank', 'connection-string': emulator.connectionString() })
    expect(full.exitCode).toBe(0)
    offsetMs = 60_000
    const target = join(tempDir(), 'with-layers')
    const run = await runInProcess({
      database: 'bank',
      incremental: 'true',
      'download-path': target,
      'connection-string': emulator.connectionString()
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(listTree(target).filter(name => name.startsWith('incrementals/') && name.endsWith('/BACKUP_MANIFEST'))).toHaveLength(1)
    expect(existsSync(join(target, 'BACKUP_MANIFEST'))).toBe(true)
  })

  it('refuses download-path for a collection outside userfile, before connecting', async () => {
    const emulator = await startEmulator({ profile: 'v23.2' })
    emulators.push(emulator)
    const run = await runInProcess({
      database: 'bank',
      collection: 's3://bucket/backups?AUTH=implicit',
      'download-path': join(tempDir(), 'x'),
      'connection-string': emulator.connectionString()
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      "Input 'download-path': is for userfile:// collections only; a s3:// collection is already outside the cluster."
    ])
    expect(emulator.statements).toEqual([])
  })

  for (const layout of ['an empty directory', 'a directory it makes'] as const) {
    it(`on a failure removes only what it wrote into ${layout}, not what another process put there meanwhile`, async () => {
      const emulator = await startEmulator({ profile: 'v23.2', jobDurationMs: 50 })
      emulators.push(emulator)
      emulator.createDatabase('bank', { accounts: { rows: 5000, bytes: 9 * 1024 * 1024 }, transfers: { rows: 10, bytes: 1000 } })
      const target = join(tempDir(), 'out', 'bank')
      if (layout === 'an empty directory') mkdirSync(target, { recursive: true })
      // At the second payload read some files are written; another process writes beside them, and the connection goes.
      emulator.setQueryDelay(300, /\bpayload FROM\b/)
      let ours: string[] = []
      const watch = setInterval(() => {
        if (emulator.statements.filter(s => /\bpayload FROM\b/.test(s.sql)).length < 2) return
        clearInterval(watch)
        ours = listTree(target)
        mkdirSync(join(target, 'data'), { recursive: true })
        writeFileSync(join(target, 'data', 'theirs.txt'), "not the action's")
        writeFileSync(join(target, 'theirs.txt'), "not the action's")
        emulator.dropConnections()
      }, 5)
      const run = await runBundledAction({
        inputs: { database: 'bank', 'download-path': target, 'connection-string': emulator.connectionString() }
      })
      clearInterval(watch)
      expect(run.exitCode).toBe(1)
      expect(ours.length).toBeGreaterThan(0)
      expect(listTree(target)).toEqual(['data/theirs.txt', 'theirs.txt'])
    })
  }
})
