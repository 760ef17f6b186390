/**
 * The committed bundle (dist/index.js) run as the runner runs it: a child process with INPUT_*
 * variables (action.yml defaults filled in), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and real
 * signals. Also the faults that need a process of their own.
 */
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type ProfileName } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { errorsOf, maskedValues } from '../support/run-in-process.js'
import { runBundledAction } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'

expectNoInternalsInAnyStatement()

const { emulators } = scratchPerTest('e2e-bundle-')

/** The log's groups in order, checked to be closed before the next opens and before the step's result. */
function groupsOf(stdout: string): string[] {
  const groups: string[] = []
  let open = false
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::group::')) {
      expect(open, `${line} opens inside another group`).toBe(false)
      groups.push(line.slice('::group::'.length))
      open = true
    } else if (line.startsWith('::endgroup::')) {
      expect(open, 'an ::endgroup:: without a group').toBe(true)
      open = false
    } else if (line.startsWith('::error::')) expect(open, 'the error is hidden inside a group').toBe(false)
  }
  expect(open, 'the last group is never closed').toBe(false)
  return groups
}

async function bank(jobDurationMs: number, profile: ProfileName = 'v23.2'): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } })
  return emu
}

describe('dist/index.js as the runner starts it', () => {
  for (const profile of ['v21.2', 'v25.2', 'v26.1', 'v26.2'] as const) {
    it(`backs up on ${profile} and writes outputs and a summary`, async () => {
      const emu = await bank(200, profile)
      const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
      expect(errorsOf(run.stdout)).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2}$/)
      expect(run.outputs['rows']).toBe('40')
      expect(run.outputs['restore-statement']).toContain(`RESTORE DATABASE bank FROM '${run.outputs['backup-path']}'`)
      expect(run.summary).toContain('<h2>CockroachDB backup of bank</h2>')
      expect(groupsOf(run.stdout)).toEqual(['Connect', 'Back up', 'Verify'])
      // Key/value headers left-aligned, numbers right-aligned.
      expect(run.summary).toContain(`<th align="left">Path</th><td><code>${run.outputs['backup-path']}</code></td>`)
      expect(run.summary).toContain('<th align="right">Rows in this layer</th>')
      expect(run.summary).toContain('<td>bank.public.accounts</td><td align="right">40</td>')
      // action.yml's default AS OF SYSTEM TIME (step-start) reached CockroachDB as a decimal HLC timestamp.
      expect(emu.statements.find(s => s.sql.startsWith('BACKUP'))?.sql).toMatch(/ AS OF SYSTEM TIME '\d{19}\.0000000000' WITH detached$/)
      expect(run.stdout).toMatch(/Backing up as of \S+Z: the step's start \S+Z plus the 0\.50 s maximum clock offset/)
    })
  }

  it('fails with one ::error:: naming the input, before connecting, on a malformed number', async () => {
    const emu = await bank(100)
    const run = await runBundledAction({ inputs: { database: 'bank', 'wait-timeout': 'abc', 'connection-string': emu.connectionString() } })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([`Input 'wait-timeout': "abc" is not a number of seconds (for example 60).`])
    expect(emu.statements).toEqual([])
    expect(run.outputs).toEqual({})
  })

  it('cancels the job within 5 s of SIGTERM and exits non-zero saying so', async () => {
    const emu = await bank(60_000)
    let signalledAt = 0
    const run = await runBundledAction({
      inputs: { database: 'bank', 'connection-string': emu.connectionString() },
      onStdout: (chunk, child) => {
        if (signalledAt === 0 && /Backup job \d+ started/.test(chunk)) {
          signalledAt = Date.now()
          child.kill('SIGTERM')
        }
      }
    })
    expect(signalledAt).toBeGreaterThan(0)
    expect(run.signal).toBeNull()
    expect(run.exitCode).toBe(1)
    const cancel = emu.statements.find(s => /^CANCEL JOB \d+$/.test(s.sql))
    expect(cancel).toBeDefined()
    expect(cancel!.at.valueOf() - signalledAt).toBeLessThan(5000)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(/The workflow was cancelled \(SIGTERM\) while backup job \d+ was running/)
    expect(error).toMatch(/Job \d+ was cancelled/)
    const [job] = [...emu.cluster.jobs.values()]
    expect(['canceled', 'cancel-requested']).toContain(job?.status)
    expect(run.outputs).toEqual({})
    expect(run.summary).toContain('<h2>CockroachDB backup of bank failed</h2>')
    expect(run.summary).toMatch(/<p>The workflow was cancelled \(SIGTERM\) while backup job \d+ was running/)
    expect(run.summary).toContain(`<th align="left">Job</th><td>${job!.id}</td>`)
  })

  it('writes a summary when it fails: what failed, the statement with its secrets redacted, the job and the hint', async () => {
    const passphrase = "it's-a-passphrase"
    const cloudSecret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY'
    const emu = await bank(60_000)
    const run = await runBundledAction({
      inputs: {
        database: 'bank',
        collection: `s3://backups/bank?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=${encodeURIComponent(cloudSecret)}`,
        'encryption-passphrase': passphrase,
        timeout: '1',
        'connection-string': emu.connectionString()
      }
    })
    expect(run.exitCode).toBe(1)
    expect(groupsOf(run.stdout)).toEqual(['Connect', 'Back up'])
    const [job] = [...emu.cluster.jobs.values()]
    const { summary } = run
    expect(summary).toContain('<h2>CockroachDB backup of bank failed</h2>')
    expect(summary).toContain('<th align="left">Phase</th><td>Back up</td>')
    expect(summary).toMatch(new RegExp(`<p>Backup job ${job!.id} was still running when the timeout \\(1 s\\) was reached\\.`))
    expect(summary).toContain(`<th align="left">Job</th><td>${job!.id}</td>`)
    expect(summary).toContain('<p><strong>Hint:</strong> Raise the timeout input if jobs of this size take longer.</p>')
    // The summary is HTML: quotes are escaped like every other character with a meaning there.
    expect(summary).toMatch(
      /BACKUP DATABASE bank INTO &#39;s3:\/\/backups\/bank\?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&amp;AWS_SECRET_ACCESS_KEY=redacted&#39; AS OF SYSTEM TIME &#39;\d+\.0000000000&#39; WITH detached, encryption_passphrase = &#39;redacted&#39;/
    )
    for (const secret of [passphrase, "it''s-a-passphrase", cloudSecret, encodeURIComponent(cloudSecret)])
      expect(summary).not.toContain(secret)
  })

  it('keeps following the job after the connection drops, and succeeds when the job does', async () => {
    const emu = await bank(2500)
    let dropped = false
    const run = await runBundledAction({
      inputs: { database: 'bank', 'connection-string': emu.connectionString() },
      onStdout: chunk => {
        if (!dropped && /Backup job \d+ started/.test(chunk)) {
          dropped = true
          setTimeout(() => emu.dropConnections(), 300)
        }
      }
    })
    expect(dropped).toBe(true)
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.stdout).toMatch(/Lost the connection while following job \d+/)
    expect(run.exitCode).toBe(0)
    expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\//)
  })

  it('cancels a job that gets paused rather than leave it half done', async () => {
    const emu = await bank(60_000)
    let paused = false
    const run = await runBundledAction({
      inputs: { database: 'bank', 'connection-string': emu.connectionString() },
      onStdout: chunk => {
        if (!paused && /Backup job \d+ started/.test(chunk)) {
          paused = true
          emu.pauseJob()
        }
      }
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(/Backup job \d+ was paused[\s\S]*Job \d+ was cancelled/)
  })

  it('prints a password only inside ::add-mask::, even when the connection fails', async () => {
    const password = 'S3cr3t-p@ss'
    const emulator = await startEmulator({ profile: 'v23.2', users: { alice: 'other' } })
    emulators.push(emulator)
    const url = emulator.connectionString('alice', password)
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': url } })
    expect(run.exitCode).toBe(1)
    expect(maskedValues(run.stdout)).toContain(password)
    const unmasked = run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::'))
    expect(unmasked.join('\n')).not.toContain(password)
    expect(unmasked.join('\n')).not.toContain(encodeURIComponent(password))
    expect(run.stderr).not.toContain(password)
  })
})

describe('a server that stops answering', () => {
  it('fails within about wait-timeout instead of hanging, saying which statement got no answer', async () => {
    const emu = await bank(100)
    const started = Date.now()
    const run = await runBundledAction({
      inputs: { database: 'bank', 'wait-timeout': '3', 'connection-string': emu.connectionString() },
      onStdout: chunk => {
        if (/Connected as root/.test(chunk)) emu.setQueryDelay(60_000) // accepts connections, answers nothing
      }
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(
      /While reading the cluster's clock \(cluster_logical_timestamp\(\)\): no answer within 5 s/
    )
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})
