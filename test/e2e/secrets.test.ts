/**
 * Every scenario, run through the bundle with a recognisable password, passphrase and cloud
 * credential: each secret may appear only in `::add-mask::` lines, never in an error, a log line,
 * the summary, an output or stderr.
 */
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { maskedValues } from '../support/run-in-process.js'
import { runBundledAction, type ActionRun } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'

expectNoInternalsInAnyStatement()

const PASSWORD = 'Pw-9f3c@e1 /x'
const PASSPHRASE = 'pass-phrase-77c1 with spaces'
const CLOUD_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY'
const COLLECTION = `s3://backups/bank?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=${encodeURIComponent(CLOUD_SECRET)}`

const SECRETS = [PASSWORD, encodeURIComponent(PASSWORD), PASSPHRASE, CLOUD_SECRET, encodeURIComponent(CLOUD_SECRET)]

const { emulators } = scratchPerTest('e2e-secrets-')

interface Scenario {
  name: string
  prepare?: (emu: Emulator) => void | Promise<void>
  inputs?: Record<string, string>
  password?: string
  exitCode: 0 | 1
}

const scenarios: Scenario[] = [
  { name: 'a backup that succeeds', exitCode: 0 },
  { name: 'a job that fails', prepare: emu => emu.failNextJob({ message: 'simulated failure' }), exitCode: 1 },
  { name: 'a missing database', inputs: { database: 'nope' }, exitCode: 1 },
  { name: 'the timeout', prepare: emu => emu.setJobDuration(60_000), inputs: { timeout: '1' }, exitCode: 1 },
  { name: 'an incremental with no full backup', inputs: { incremental: 'true' }, exitCode: 1 },
  { name: 'a wrong password', password: 'not-the-password', exitCode: 1 },
  { name: 'a malformed input', inputs: { timeout: 'soon' }, exitCode: 1 },
  {
    name: 'a cluster that never answers',
    prepare: emu => void emu.refuseConnectionsFor(20_000),
    inputs: { 'wait-timeout': '1' },
    exitCode: 1
  }
]

function expectNoSecretOutsideMasks(run: ActionRun, password: string): void {
  const masked = maskedValues(run.stdout)
  for (const secret of [password, PASSPHRASE, CLOUD_SECRET]) expect(masked).toContain(secret)
  const visible = [
    ...run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::')),
    run.stderr,
    run.summary,
    ...Object.values(run.outputs)
  ].join('\n')
  for (const secret of [...SECRETS, password, encodeURIComponent(password)]) expect(visible).not.toContain(secret)
}

describe('secrets in every scenario', () => {
  for (const scenario of scenarios) {
    it(`stay masked on ${scenario.name}`, async () => {
      const emulator = await startEmulator({ profile: 'v23.2', jobDurationMs: 100, users: { alice: PASSWORD } })
      emulators.push(emulator)
      emulator.createDatabase('bank', { accounts: { rows: 10, bytes: 1000 } })
      await scenario.prepare?.(emulator)
      const run = await runBundledAction({
        inputs: {
          database: 'bank',
          collection: COLLECTION,
          'encryption-passphrase': PASSPHRASE,
          'connection-string': emulator.connectionString('alice', scenario.password ?? PASSWORD),
          ...scenario.inputs
        }
      })
      expect(run.exitCode).toBe(scenario.exitCode)
      expectNoSecretOutsideMasks(run, scenario.password ?? PASSWORD)
      if (scenario.exitCode === 0)
        expect(run.outputs['collection']).toBe('s3://backups/bank?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=redacted')
    })
  }
})

describe('user info in a userfile collection', () => {
  for (const inputs of [{ 'keep-backups': '1' }, {}] as Record<string, string>[]) {
    it(`is refused without printing it in any case${'keep-backups' in inputs ? ' (keep-backups)' : ''}`, async () => {
      const emulator = await startEmulator({ profile: 'v23.2', jobDurationMs: 100 })
      emulators.push(emulator)
      emulator.createDatabase('bank', { accounts: { rows: 10, bytes: 1000 } })
      const run = await runBundledAction({
        inputs: {
          database: 'bank',
          collection: 'userfile://bob:Hunter2-Pw@defaultdb.public.userfiles_root/bank-backup',
          'connection-string': emulator.connectionString(),
          ...inputs
        }
      })
      expect(run.exitCode).toBe(1)
      const visible = run.stdout.split('\n').filter(line => !line.startsWith('::add-mask::'))
      expect(visible.filter(line => line.startsWith('::error::'))).toEqual([
        "::error::Input 'collection': a userfile:// URI takes no user name or password (userfile storage belongs to the session user, and CockroachDB ignores them), so remove the part before @."
      ])
      expect([...visible, run.summary].join('\n').toLowerCase()).not.toContain('hunter2')
      expect(emulator.statements).toEqual([])
    })
  }
})

describe('step debug logging (ACTIONS_STEP_DEBUG)', () => {
  it('shows every statement sent, redacted, with its timing, and still no secret', async () => {
    const emulator = await startEmulator({ profile: 'v23.2', jobDurationMs: 100, users: { alice: PASSWORD } })
    emulators.push(emulator)
    emulator.createDatabase('bank', { accounts: { rows: 10, bytes: 1000 } })
    const run = await runBundledAction({
      inputs: {
        database: 'bank',
        collection: COLLECTION,
        'encryption-passphrase': PASSPHRASE,
        'connection-string': emulator.connectionString('alice', PASSWORD)
      },
      env: { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' }
    })
    expect(run.exitCode).toBe(0)
    const debug = run.stdout.split('\n').filter(line => line.startsWith('::debug::'))
    const backup = debug.find(line => line.startsWith('::debug::SQL: BACKUP DATABASE bank INTO '))
    expect(backup).toContain('AWS_SECRET_ACCESS_KEY=redacted')
    expect(backup).toMatch(/encryption_passphrase = '[^']*'/)
    expect(debug.some(line => /^::debug::SQL: SELECT .*FROM \[SHOW JOB \d+\]/.test(line))).toBe(true)
    expect(debug.some(line => /^::debug::SQL answered: \d+ rows? in \d+ ms$/.test(line))).toBe(true)
    expectNoSecretOutsideMasks(run, PASSWORD)
  })
})
