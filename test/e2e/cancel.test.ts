/**
 * Cancellation in every phase, on the bundle, with the runner's sequence: SIGINT, SIGTERM 7.5 s
 * later, SIGKILL 2.5 s after that. In each phase the step must stop on SIGINT, cancel the job it
 * started, leave the runner's directory and the userfile tables as they were, and exit 1 saying the
 * workflow was cancelled, before SIGTERM is due.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { reserveEmulatorPort, startEmulator, type Emulator, type ProfileName } from '../emulator/index.js'
import { ROOT, runBundledAction, type ActionRun } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf } from '../support/run-in-process.js'

const { emulators, tempDir } = scratchPerTest('e2e-cancel-')

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'

async function bank(options: { jobDurationMs?: number; bytes?: number; profile?: ProfileName } = {}): Promise<Emulator> {
  const emu = await startEmulator({ profile: options.profile ?? 'v23.2', jobDurationMs: options.jobDurationMs ?? 150 })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: options.bytes ?? 64_000 } })
  return emu
}

interface Cancelled extends ActionRun {
  /** When SIGINT was sent; 0 if the trigger never came. */
  interruptedAt: number
  /** Whether the step was still running when SIGTERM (7.5 s after SIGINT) was due. */
  sigtermSent: boolean
  endedAt: number
}

/**
 * Runs the bundle and, once `trigger` says so (given the output so far), cancels it as the runner
 * does. `prepare` runs on the same stdout chunk just before SIGINT (to make a query hang, say).
 */
async function cancelWhen(
  inputs: Record<string, string>,
  trigger: (stdout: string) => boolean,
  options: { script?: string; actionYml?: string; delayMs?: number; prepare?: () => void } = {}
): Promise<Cancelled> {
  let stdout = ''
  let interruptedAt = 0
  let sigtermSent = false
  const timers: NodeJS.Timeout[] = []
  const sequence = (child: ChildProcess): void => {
    interruptedAt = Date.now()
    child.kill('SIGINT')
    timers.push(
      setTimeout(() => {
        if (child.exitCode !== null || child.signalCode !== null) return
        sigtermSent = true
        child.kill('SIGTERM')
        timers.push(setTimeout(() => child.kill('SIGKILL'), 2500))
      }, 7500)
    )
  }
  const run = await runBundledAction({
    inputs,
    script: options.script,
    actionYml: options.actionYml,
    onStdout: (chunk, child) => {
      stdout += chunk
      if (interruptedAt !== 0 || !trigger(stdout)) return
      options.prepare?.()
      interruptedAt = -1
      timers.push(setTimeout(() => sequence(child), options.delayMs ?? 300))
    }
  })
  for (const timer of timers) clearTimeout(timer)
  return { ...run, interruptedAt, sigtermSent, endedAt: Date.now() }
}

function expectCancelled(run: Cancelled, outputs: string[] = []): void {
  expect(run.interruptedAt).toBeGreaterThan(0)
  expect(run.signal).toBeNull()
  expect(run.exitCode).toBe(1)
  expect(run.sigtermSent).toBe(false)
  expect(errorsOf(run.stdout).join('\n')).toMatch(/The workflow was cancelled \(SIGINT\)/)
  expect(Object.keys(run.outputs).sort()).toEqual(outputs)
}

function cancels(emu: Emulator): string[] {
  return emu.statements.filter(s => /^CANCEL JOB \d+$/.test(s.sql)).map(s => s.sql)
}

function userfileNames(emu: Emulator): string[] {
  return [...emu.cluster.userfiles.values()].flatMap(tables => tables.files.map(file => file.filename)).sort()
}

describe('a cancelled workflow, phase by phase (the runner: SIGINT, SIGTERM after 7.5 s, SIGKILL after 2.5 s more)', () => {
  it('while connecting: says cancelled, not a wait-timeout', async () => {
    const port = await reserveEmulatorPort() // nothing listens there
    const run = await cancelWhen(
      { database: 'bank', 'wait-timeout': '60', 'connection-string': `postgresql://root@127.0.0.1:${port}/defaultdb?sslmode=disable` },
      out => out.includes('Connecting to CockroachDB')
    )
    expectCancelled(run)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(/cancelled \(SIGINT\) while connecting to CockroachDB/)
    expect(error).not.toMatch(/within wait-timeout/)
  })

  // Another workflow's backup of the same database into the same collection, as the same user.
  const OTHER_BACKUP = `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-1s' WITH detached`

  /** Sends the other workflow's BACKUP; its job exists once CockroachDB has run it, whenever it answers. */
  function startOtherWorkflow(emu: Emulator): pg.Client {
    const client = new pg.Client({ connectionString: emu.connectionString() })
    client.on('error', () => undefined)
    void client
      .connect()
      .then(() => client.query(OTHER_BACKUP))
      .catch(() => undefined) // its answer may be held back until the emulator closes
    return client
  }

  /** The step's backup, cancelled once it has sent BACKUP, while the same user backs up the same database from another workflow. */
  async function cancelBesideOtherWorkflow(emu: Emulator): Promise<{ run: Cancelled; theirs: string | undefined }> {
    let other: pg.Client | undefined
    const run = await cancelWhen(
      { database: 'bank', 'connection-string': emu.connectionString() },
      out => out.includes('Running: BACKUP'),
      { prepare: () => (other = startOtherWorkflow(emu)) }
    )
    await other?.end().catch(() => undefined)
    expectCancelled(run)
    const theirs = [...emu.cluster.jobs.values()].find(job => job.description.includes("AS OF SYSTEM TIME '-1s'"))?.id
    return { run, theirs }
  }

  // v24.3+ shows `created` truncated to the second and abbreviates descriptions in SHOW JOBS.
  it.each(['v23.2', 'v24.3', 'v26.2'] as const)(
    "while the BACKUP statement has not answered (%s): the job carrying its own time is cancelled, the other workflow's is not",
    async profile => {
      const emu = await bank({ jobDurationMs: 60_000, profile })
      // CockroachDB has made the job; its answer is what hangs.
      emu.setQueryDelay(60_000, /^BACKUP/, { answer: true })
      const { run, theirs } = await cancelBesideOtherWorkflow(emu)
      const mine = [...emu.cluster.jobs.values()].find(job => job.id !== theirs)
      expect(theirs).toBeDefined()
      // Its own time lies past what v24.1+ SHOW JOBS shows of a description (the first 59 characters, the last 7).
      expect(mine?.description.indexOf(' AS OF SYSTEM TIME ')).toBeGreaterThan(59)
      expect(cancels(emu)).toEqual([`CANCEL JOB ${mine?.id}`])
      expect(['canceled', 'cancel-requested']).toContain(mine?.status)
      expect(emu.cluster.jobs.get(theirs ?? '')?.status).toBe('running')
      expect(errorsOf(run.stdout).join('\n')).toMatch(
        /while starting the backup[\s\S]*Job \d+, started by the BACKUP statement that never answered, was cancelled/
      )
    }
  )

  it("when the BACKUP statement never reached CockroachDB: the same user's other backup is not cancelled, and the step's own time is named", async () => {
    const emu = await bank({ jobDurationMs: 60_000, profile: 'v23.2' })
    emu.setQueryDelay(60_000, /^BACKUP DATABASE bank INTO '[^']*' AS OF SYSTEM TIME '\d/) // the step's waits before it runs
    const { run, theirs } = await cancelBesideOtherWorkflow(emu)
    expect(cancels(emu)).toEqual([])
    expect([...emu.cluster.jobs.keys()]).toEqual([theirs])
    expect(emu.cluster.jobs.get(theirs ?? '')?.status).toBe('running')
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(
      new RegExp(
        `nothing was cancelled: none of the BACKUP jobs of root created since about \\S+ \\S+ \\(${theirs}\\) carries '\\d+\\.\\d{10}', so none is this step's`
      )
    )
    expect(error).not.toContain(`CANCEL JOB ${theirs}`)
  })

  it('while keep-backups deletes: says cancelled once, and the backup it made keeps its outputs', async () => {
    const emu = await bank({ jobDurationMs: 100 })
    const first = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(first.exitCode).toBe(0)
    emu.setQueryDelay(60_000, /^DELETE FROM/)
    const run = await cancelWhen({ database: 'bank', 'keep-backups': '1', 'connection-string': emu.connectionString() }, out =>
      out.includes('::group::Keep backups')
    )
    expect(run.interruptedAt).toBeGreaterThan(0)
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error.match(/The workflow was cancelled/g)).toHaveLength(1)
    expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\//)
    expect(run.outputs['deleted-backups']).toBe('')
  })

  it('while keep-backups commits: says whether the backup was removed is unknown, without stopping to look', async () => {
    const emu = await bank({ jobDurationMs: 100 })
    const first = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(first.exitCode).toBe(0)
    emu.setQueryDelay(60_000, /^COMMIT/)
    const run = await cancelWhen({ database: 'bank', 'keep-backups': '1', 'connection-string': emu.connectionString() }, out =>
      out.includes('::group::Keep backups')
    )
    expect(run.sigtermSent).toBe(false)
    expect(errorsOf(run.stdout).join('\n')).toContain(
      `keep-backups could not delete backup ${first.outputs['backup-path']} (cancelled during its COMMIT, so whether it was removed is unknown); no backup was deleted:\nThe workflow was cancelled (SIGINT)`
    )
    expect(run.outputs['deleted-backups']).toBe('')
  })

  it("while the RESTORE statement has not answered: nothing proves the job is this step's, so it is named, not cancelled", async () => {
    const emu = await bank({ jobDurationMs: 60_000 })
    emu.setJobDuration(100)
    const backup = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(backup.exitCode).toBe(0)
    emu.setJobDuration(60_000)
    emu.setQueryDelay(60_000, /^RESTORE/, { answer: true })
    const run = await cancelWhen(
      {
        database: 'bank',
        'backup-path': backup.outputs['backup-path'] ?? '',
        'new-db-name': 'bank2',
        'connection-string': emu.connectionString()
      },
      out => out.includes('Running: RESTORE'),
      { script: join(ROOT, 'dist/restore/index.js'), actionYml: join(ROOT, 'restore/action.yml') }
    )
    expectCancelled(run)
    const restoreJob = [...emu.cluster.jobs.values()].find(job => job.type === 'RESTORE')
    // Another workflow may run the same RESTORE as the same user: the statement holds nothing of this step's own.
    expect(cancels(emu)).toEqual([])
    expect(restoreJob?.status).toBe('running')
    expect(errorsOf(run.stdout).join('\n')).toContain(`cancel it: CANCEL JOB ${restoreJob?.id}`)
  })

  it('during a drop-existing restore: the job is cancelled, its temporary database dropped, the existing database untouched', async () => {
    const emu = await bank()
    const backup = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(backup.exitCode).toBe(0)
    emu.setJobDuration(60_000)
    let temporary = ''
    const run = await cancelWhen(
      {
        database: 'bank',
        'backup-path': backup.outputs['backup-path'] ?? '',
        'drop-existing': 'true',
        'connection-string': emu.connectionString()
      },
      out => {
        temporary = /Restore job \d+ started \(into (bank_restoring_[0-9a-f]{8})/.exec(out)?.[1] ?? ''
        return temporary !== ''
      },
      {
        script: join(ROOT, 'dist/restore/index.js'),
        actionYml: join(ROOT, 'restore/action.yml'),
        // CockroachDB's job has created the (offline) database it restores into.
        prepare: () => emu.createDatabase(temporary, { accounts: { rows: 10, bytes: 640 } })
      }
    )
    expectCancelled(run)
    const restoreJob = [...emu.cluster.jobs.values()].find(job => job.type === 'RESTORE')
    expect(cancels(emu)).toEqual([`CANCEL JOB ${restoreJob?.id}`])
    expect(errorsOf(run.stdout).join('\n')).toContain(`Dropped the temporary database ${temporary} of the unfinished restore.`)
    expect([...emu.cluster.databases.keys()].sort()).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
    expect(emu.cluster.databases.get('bank')?.schemas.get('public')?.get('accounts')?.rows).toBe(1000)
    expect(emu.statements.some(s => s.sql.startsWith('ALTER DATABASE'))).toBe(false)
  })

  it('while a job-status query hangs: CANCEL JOB goes out on a fresh connection at once', async () => {
    const emu = await bank({ jobDurationMs: 60_000 })
    const run = await cancelWhen(
      { database: 'bank', 'connection-string': emu.connectionString() },
      out => /Backup job \d+: running/.test(out),
      { prepare: () => emu.setQueryDelay(60_000, /crdb_internal\.jobs|SHOW JOB/i) }
    )
    expectCancelled(run)
    expect(cancels(emu)).toHaveLength(1)
    const [job] = [...emu.cluster.jobs.values()]
    expect(['canceled', 'cancel-requested']).toContain(job?.status)
    expect(errorsOf(run.stdout).join('\n')).toMatch(/Job \d+ was cancelled/)
  })

  it('while SHOW BACKUP hangs, with a timeout input far away', async () => {
    const emu = await bank()
    const run = await cancelWhen(
      { database: 'bank', timeout: '3600', 'connection-string': emu.connectionString() },
      out => /Backup job \d+: succeeded/.test(out),
      { prepare: () => emu.setQueryDelay(60_000, /^SHOW BACKUP '/), delayMs: 500 }
    )
    expectCancelled(run)
    expect(errorsOf(run.stdout).join('\n')).toMatch(/while reading backup/)
  })

  it('during a download: download-path and the directories it made are gone, the rest untouched', async () => {
    const emu = await bank({ bytes: 9 * 1024 * 1024 })
    const runner = tempDir()
    mkdirSync(join(runner, 'kept'))
    symlinkSync(join(runner, 'nowhere'), join(runner, 'dangling'))
    const before = readdirSync(runner).sort()
    const run = await cancelWhen(
      { database: 'bank', 'download-path': join(runner, 'new', 'deep', 'backup'), 'connection-string': emu.connectionString() },
      out => /Backup job \d+: succeeded/.test(out),
      // The folders and the first .partial file are made; reading its bytes hangs.
      { prepare: () => emu.setQueryDelay(60_000, /_upload_payload/), delayMs: 400 }
    )
    // The backup itself is whole and verified: where it is, is still reported.
    expectCancelled(run, ['backup-path', 'collection', 'job-id', 'restore-statement'])
    // Several reads are in flight (download-connections): the message names one of them.
    expect(errorsOf(run.stdout).join('\n')).toMatch(/while reading (\/bank-backup\/|\d+ files from defaultdb\.public\.userfiles_root)/)
    expect(readdirSync(runner).sort()).toEqual(before)
    expect(existsSync(join(runner, 'new'))).toBe(false)
  })

  it('during the restore upload: no .tmp row is left in userfile storage', async () => {
    const source = await bank()
    const downloaded = join(tempDir(), 'backup')
    const backup = await runBundledAction({
      inputs: { database: 'bank', 'download-path': downloaded, 'connection-string': source.connectionString() }
    })
    expect(backup.exitCode).toBe(0)
    const target = await bank()
    const run = await cancelWhen(
      {
        database: 'bank',
        'backup-path': backup.outputs['backup-path'] ?? '',
        'source-path': downloaded,
        'new-db-name': 'bank2',
        'connection-string': target.connectionString()
      },
      out => out.includes('Connected as'),
      {
        script: join(ROOT, 'dist/restore/index.js'),
        actionYml: join(ROOT, 'restore/action.yml'),
        // Every chunk write hangs: the file row under its .tmp name is in, its bytes are not.
        prepare: () => target.setQueryDelay(60_000, /INSERT INTO .*_upload_payload/),
        delayMs: 500
      }
    )
    expectCancelled(run)
    expect(target.statements.some(s => /INSERT INTO .*_upload_files/.test(s.sql))).toBe(true)
    // The first file's bytes never arrived: the storage is as empty as before the step.
    expect(userfileNames(target)).toEqual([])
    expect([...target.cluster.userfiles.values()].flatMap(tables => tables.payload)).toEqual([])
  })

  /** A cancel during verify-restore comes after the backup was made: its outputs are set, with verified=false. */
  const MADE_BACKUP_OUTPUTS = ['backup-path', 'collection', 'job-id', 'restore-statement', 'verified']

  it("during verify-restore's final DROP: the drop finishes on its own connection, within the runner's grace period", async () => {
    const emu = await bank()
    emu.setQueryDelay(3_000, /^DROP DATABASE/)
    const run = await cancelWhen({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() }, out =>
      /Verification restore job \d+: succeeded/.test(out)
    )
    expectCancelled(run, MADE_BACKUP_OUTPUTS)
    expect(run.outputs['verified']).toBe('false')
    expect(run.stdout).toMatch(/Dropped the scratch database bank_verify_\d+\./)
    expect(run.stdout).not.toContain('drop it by hand')
    expect([...emu.cluster.databases.keys()].filter(name => name.includes('_verify_'))).toEqual([])
  })

  it('during a verify-restore DROP that never ends: the statement to run is printed before SIGTERM', async () => {
    const emu = await bank()
    emu.setQueryDelay(60_000, /^DROP DATABASE/)
    const run = await cancelWhen({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() }, out =>
      /Verification restore job \d+: succeeded/.test(out)
    )
    expectCancelled(run, MADE_BACKUP_OUTPUTS)
    // It kept at the DROP, on fresh connections, until its budget (5.5 s after SIGINT) ran out.
    expect(run.endedAt - run.interruptedAt).toBeGreaterThan(5_000)
    const [scratch] = [...emu.cluster.databases.keys()].filter(name => name.includes('_verify_'))
    expect(scratch).toMatch(/^bank_verify_\d+$/)
    expect(errorsOf(run.stdout).join('\n')).toContain(`The scratch database ${scratch} could not be dropped (`)
    expect(errorsOf(run.stdout).join('\n')).toContain(`drop it by hand: DROP DATABASE IF EXISTS ${scratch} CASCADE`)
  })
})
