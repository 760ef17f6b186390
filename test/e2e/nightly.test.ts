/**
 * The README's nightly example, run as the runner runs the committed bundle (dist/index.js): back
 * up with a passphrase, download, keep 2, verify by restoring. And a cancel (SIGTERM) in the middle
 * of the verification restore: the job is cancelled and the scratch database is gone.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { ROOT, runBundledAction } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf, maskedValues } from '../support/run-in-process.js'

const DAY_MS = 24 * 3600_000
const PASSPHRASE = 'nightly secret phrase'

const { emulators, tempDir } = scratchPerTest('nightly-')

const databases = (emu: Emulator) => [...emu.cluster.databases.keys()].sort()

describe('the nightly example, bundled', () => {
  it('backs up encrypted, downloads, verifies by restoring, and keeps the newest 2', async () => {
    let offsetMs = -4 * DAY_MS
    const emu = await startEmulator({ profile: 'v25.2', jobDurationMs: 100, now: () => new Date(Date.now() + offsetMs) })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 500, bytes: 32_000 }, transfers: { rows: 80, bytes: 6_000 } })
    const paths: string[] = []
    for (let night = 0; night < 4; night++) {
      const dir = tempDir()
      const run = await runBundledAction({
        inputs: {
          'connection-string': emu.connectionString(),
          database: 'bank',
          'encryption-passphrase': PASSPHRASE,
          'download-path': join(dir, 'bank-backup'),
          'keep-backups': '2',
          'verify-restore': 'true'
        }
      })
      expect(errorsOf(run.stdout)).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(maskedValues(run.stdout)).toContain(PASSPHRASE)
      expect(run.stdout.replaceAll(/^::add-mask::.*$/gm, '')).not.toContain(PASSPHRASE)
      expect(run.stdout).not.toContain('::notice::') // encrypted: no unencrypted-artifact notice
      expect(run.outputs['verified']).toBe('true')
      expect(readdirSync(join(dir, 'bank-backup'))).toContain('ENCRYPTION-INFO')
      paths.push(run.outputs['backup-path']!)
      expect(run.outputs['deleted-backups']).toBe(night < 2 ? '' : paths[night - 2])
      expect(run.summary).toContain('Restore test: verified')
      expect(databases(emu)).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
      offsetMs += DAY_MS
    }
    const folders = new Set(
      emu.cluster.userfiles
        .get('defaultdb.public.userfiles_root')
        ?.files.map(f => /^\/bank-backup(\/\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2})\//.exec(f.filename)?.[1])
        .filter(Boolean)
    )
    expect([...folders].sort()).toEqual(paths.slice(2))
  })

  it('the README example over five weeks: a full backup each week, incrementals between, the oldest week deleted with the fifth full', async () => {
    const workflow = parse(readFileSync(join(ROOT, 'examples/nightly.yml'), 'utf8')) as {
      jobs: { nightly: { steps: { id?: string; with?: Record<string, string | number | boolean> }[] } }
    }
    const given = workflow.jobs.nightly.steps.find(step => step.id === 'backup')?.with ?? {}
    expect(given).toMatchObject({ 'full-every': '7d', 'keep-backups': 4, 'encryption-passphrase': expect.any(String) })
    let offsetMs = 0
    const emu = await startEmulator({ profile: 'v26.2', jobDurationMs: 20, now: () => new Date(Date.now() + offsetMs) })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 500, bytes: 32_000 } })
    const fulls: string[] = []
    for (let night = 0; night <= 28; night++) {
      const inputs = Object.fromEntries(
        Object.entries(given).map(([key, value]) => [
          key,
          String(value).replace('${{ secrets.BACKUP_PASSPHRASE }}', PASSPHRASE).replace('${{ runner.temp }}', tempDir())
        ])
      )
      emu.writeRows('bank', 'accounts', { rows: 500 + night, bytes: 32_000 + night * 64 })
      const run = await runBundledAction({ inputs: { ...inputs, 'connection-string': emu.connectionString() } })
      expect(errorsOf(run.stdout), `night ${night}`).toEqual([])
      expect(run.outputs['verified']).toBe('true')
      const weekly = night % 7 === 0
      expect(run.outputs['backup-type'], `night ${night}`).toBe(weekly ? 'full' : 'incremental')
      if (weekly) fulls.push(run.outputs['backup-path']!)
      expect(run.outputs['backup-path']).toBe(fulls.at(-1))
      expect(run.outputs['deleted-backups'], `night ${night}`).toBe(night === 28 ? fulls[0] : '')
      offsetMs += DAY_MS
    }
    const files = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')?.files.map(f => f.filename) ?? []
    const folders = new Set(files.map(name => /^\/bank-backup(\/\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2})\//.exec(name)?.[1]).filter(Boolean))
    expect([...folders].sort()).toEqual(fulls.slice(1))
    // The deleted week went with its six incrementals; the kept weeks keep theirs.
    expect(files.some(name => name.startsWith(`/bank-backup/incrementals${fulls[0]}/`))).toBe(false)
    expect(files.some(name => name.startsWith(`/bank-backup/incrementals${fulls[1]}/`))).toBe(true)
  })

  it('cancelled during the verification restore: cancels the job, drops the scratch database, deletes nothing', async () => {
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 100 })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 500, bytes: 32_000 } })
    const inputs = { 'connection-string': emu.connectionString(), tables: 'bank.*', 'keep-backups': '1', 'verify-restore': 'true' }
    const first = await runBundledAction({ inputs: { ...inputs, 'verify-restore': 'false' } })
    expect(errorsOf(first.stdout)).toEqual([])
    const filesBefore = emu.cluster.userfiles.get('defaultdb.public.userfiles_root')?.files.length ?? 0

    let scratchSeen = false
    const run = await runBundledAction({
      inputs,
      onStdout: (chunk, child) => {
        if (/Verification restore job \d+ started/.test(chunk) && !scratchSeen) {
          emu.pauseJobs() // the restore stays running until the cancel
          scratchSeen = databases(emu).some(name => name.startsWith('bank_verify_'))
          child.kill('SIGTERM')
        }
      }
    })
    emu.resumeJobs()
    expect(scratchSeen).toBe(true)
    expect(run.exitCode).toBe(1)
    const [error] = errorsOf(run.stdout)
    expect(error).toMatch(
      /^The workflow was cancelled \(SIGTERM\) while verification restore job (\d+) was running\.\nJob \1 was cancelled\./
    )
    const restoreJob = [...emu.cluster.jobs.values()].find(job => job.type === 'RESTORE')
    expect(restoreJob?.status).toMatch(/^cancel(-requested|ed)$/)
    expect(run.outputs['verified']).toBe('false')
    expect(databases(emu)).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
    // keep-backups ran not: the first backup is still there beside the second.
    expect(emu.cluster.userfiles.get('defaultdb.public.userfiles_root')?.files.length).toBeGreaterThan(filesBefore)
    expect(run.outputs['deleted-backups']).toBeUndefined()
  })
})
