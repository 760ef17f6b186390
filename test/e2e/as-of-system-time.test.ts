/**
 * Which writes the backup holds: the committed bundle run as the runner runs it, against the
 * emulator's time model (a database or table created at a time, rows written at a time; a BACKUP
 * AS OF SYSTEM TIME sees only what existed then). Each case runs the previous default (-10s), or the
 * explicit time, beside the new default (step-start) on the same cluster.
 */
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type ProfileName } from '../emulator/index.js'
import { errorsOf } from '../support/run-in-process.js'
import { runBundledAction, type ActionRun } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'

const { emulators } = scratchPerTest('e2e-as-of-system-time-')

const HOUR_MS = 3_600_000

async function cluster(profile: ProfileName = 'v23.2'): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs: 50 })
  emulators.push(emu)
  return emu
}

async function backUp(emu: Emulator, inputs: Record<string, string> = {}): Promise<ActionRun> {
  return runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString(), ...inputs } })
}

function asOfSent(emu: Emulator): string[] {
  return emu.statements.filter(s => s.sql.startsWith('BACKUP')).map(s => / AS OF SYSTEM TIME (\S+) WITH/.exec(s.sql)?.[1] ?? '')
}

describe('a database created 1 s before the step', () => {
  // v26.2's resolver (PR #157790) drops the RESTORE-timestamp suffix and answers 3D000 for a database.
  for (const [profile, code] of [
    ['v21.2', 'XXUUU'],
    ['v25.2', 'XXUUU'],
    ['v26.2', '3D000']
  ] as const) {
    it(`on ${profile}: -10s (the previous default) fails saying it was created after that time; the default backs it up`, async () => {
      const emu = await cluster(profile)
      emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } }, { createdAt: new Date(Date.now() - 1000) })

      const old = await backUp(emu, { 'as-of-system-time': '-10s' })
      expect(old.exitCode).toBe(1)
      const error = errorsOf(old.stdout).join('\n')
      expect(error).toMatch(
        /^Database "bank" exists now but did not exist yet AS OF SYSTEM TIME -10s \(the step started at \S+Z\): it was created after that time/
      )
      // CockroachDB's own message follows, then what to do.
      expect(error).toContain('failed to resolve targets specified in the BACKUP stmt: database "bank" does not exist')
      expect(error).toContain(`(SQLSTATE ${code})`)
      expect(error).toMatch(/Hint: Back up with as-of-system-time: step-start \(the default\)/)
      expect(old.outputs).toEqual({})

      const now = await backUp(emu)
      expect(errorsOf(now.stdout)).toEqual([])
      expect(now.exitCode).toBe(0)
      expect(now.outputs['rows']).toBe('40')
      expect(now.stdout).toMatch(
        /Backing up as of \S+Z: the step's start \S+Z plus the 0\.50 s maximum clock offset \(waited \d+\.\d\d s for it to pass\), so every write committed before the step is included\./
      )
      expect(now.summary).toContain('so every write committed before the step is included')
    })
  }

  it('a missing database is still reported as missing, not as created later', async () => {
    const emu = await cluster()
    const run = await backUp(emu, { database: 'nope', 'as-of-system-time': '-10s' })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(
      /^While starting the backup into .*: failed to resolve targets specified in the BACKUP stmt: database "nope" does not exist/
    )
    expect(error).not.toContain('exists now')
  })
})

describe('clocks of different nodes', () => {
  it('retries BACKUP while the node running it trails the clock reading (a pooler), instead of failing "in the future"', async () => {
    const emu = await cluster()
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } }, { createdAt: new Date(Date.now() - 1000) })
    emu.setClockReadingLead(400) // more than the 0.1 s wait: the first BACKUP finds its time about 0.4 s in the future
    const run = await backUp(emu, { 'max-clock-offset': '0.1' })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('The node running BACKUP has not reached that time yet; retrying every 0.1 s.')
    const attempts = emu.statements.filter(s => s.sql.startsWith('BACKUP'))
    expect(attempts.length).toBeGreaterThan(1)
    expect(new Set(attempts.map(s => s.sql)).size).toBe(1) // the same time each attempt
    expect(run.outputs['rows']).toBe('40')
  })
})

describe('the time the step backs up as of', () => {
  it('is a whole microsecond with no logical part, so RESTORE can name the layer by the end time SHOW BACKUP prints', async () => {
    const emu = await cluster()
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } })
    emu.tamperResults((column, value) => {
      if (column !== 'cluster_logical_timestamp') return value
      const [wall = '0'] = value.split('.')
      return `${BigInt(wall) + 123_457n}.0000000004`
    })
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(errorsOf(run.stdout)).toEqual([])
    const asOf = /AS OF SYSTEM TIME '(\d+)\.(\d{10})'/.exec(emu.statements.find(s => s.sql.startsWith('BACKUP'))?.sql ?? '')
    expect(asOf?.[1]).toMatch(/000$/)
    expect(asOf?.[2]).toBe('0000000000')
  })
})

describe('a clock that does not behave', () => {
  it('stops at once, saying so, when a reading is 60 s behind the first (it does not sleep 60 s)', async () => {
    const emu = await cluster()
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } })
    let readings = 0
    emu.tamperResults((column, value) => {
      if (column !== 'cluster_logical_timestamp' || ++readings === 1) return value
      const [wall = '0', logical = '0'] = value.split('.')
      return `${BigInt(wall) - 60_000_000_000n}.${logical}`
    })
    const started = Date.now()
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() }, timeoutMs: 20_000 })
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)[0]).toMatch(
      /^The cluster's clock went backwards: it read \S+Z, (59|60)\.\d s before the step's start \S+Z, more than max-clock-offset \(0\.50 s\) allows\./
    )
    expect(emu.statements.some(s => s.sql.startsWith('BACKUP'))).toBe(false)
  })

  it('refuses a max-clock-offset written in milliseconds, showing the unit, before connecting', async () => {
    const emu = await cluster()
    const run = await backUp(emu, { 'max-clock-offset': '500' })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      "Input 'max-clock-offset': it is in seconds, so 500 would mean 8 min 20 s; CockroachDB's --max-offset default is 500ms (0.5 here), and Cockroach Labs recommends 250ms (0.25) for multi-region clusters, so use 0 (a single node) to 5."
    ])
    expect(emu.statements).toEqual([])
  })
})

describe('rows written 1 s before the step', () => {
  it('-10s (the previous default) leaves them out and says so; the default includes them', async () => {
    const emu = await cluster()
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } }, { createdAt: new Date(Date.now() - HOUR_MS) })
    emu.writeRows('bank', 'accounts', { rows: 50, bytes: 5000 }, new Date(Date.now() - 1000))

    const old = await backUp(emu, { 'as-of-system-time': '-10s' })
    expect(old.exitCode).toBe(0)
    expect(old.outputs['rows']).toBe('40')
    expect(old.stdout).toMatch(
      /consistent as of \S+Z \(-10s, as given: \d+\.\d\d s before the step's start \S+Z, so writes committed in those \d+\.\d\d s are not included\)/
    )
    expect(old.summary).toMatch(/-10s, as given: \d+\.\d\d s before the step(?:'|&#39;)s start/)

    const now = await backUp(emu)
    expect(now.exitCode).toBe(0)
    expect(now.outputs['rows']).toBe('50')
    expect(now.outputs['bytes']).toBe('5000')
  })

  it('also when they went into a table created 1 s before the step', async () => {
    const emu = await cluster()
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } }, { createdAt: new Date(Date.now() - HOUR_MS) })
    const bank = emu.cluster.databases.get('bank')
    bank?.schemas
      .get('public')
      ?.set('audit', { rows: 7, bytes: 700, createdAtMs: Date.now() - 1000, writes: [{ atMs: Date.now() - 1000, rows: 7, bytes: 700 }] })

    const old = await backUp(emu, { database: '', tables: 'bank.audit', 'as-of-system-time': '-10s' })
    expect(old.exitCode).toBe(1)
    const error = errorsOf(old.stdout).join('\n')
    expect(error).toMatch(
      /^Table "bank\.audit" exists now but did not exist yet AS OF SYSTEM TIME -10s \(the step started at \S+Z\): it was created after that time/
    )
    expect(error).toContain('table "bank.audit" does not exist')

    const now = await backUp(emu, { database: '', tables: 'bank.audit' })
    expect(errorsOf(now.stdout)).toEqual([])
    expect(now.outputs['rows']).toBe('7')
  })
})

describe('an explicit time, honoured exactly as given', () => {
  it('a relative time (-10s): sent as written, no wait, the backup as of 10 s before BACKUP ran', async () => {
    const emu = await cluster()
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } }, { createdAt: new Date(Date.now() - HOUR_MS) })
    emu.writeRows('bank', 'accounts', { rows: 45, bytes: 4500 }, new Date(Date.now() - 30_000))
    emu.writeRows('bank', 'accounts', { rows: 50, bytes: 5000 }, new Date(Date.now() - 1000))

    const given = await backUp(emu, { 'as-of-system-time': '-10s' })
    expect(given.exitCode).toBe(0)
    expect(asOfSent(emu)).toEqual(["'-10s'"])
    // One reading of the clock (the step's start, for the log), no second one: nothing to wait for.
    expect(emu.statements.filter(s => s.sql === 'SELECT cluster_logical_timestamp()')).toHaveLength(1)
    const backupAt = emu.statements.find(s => s.sql.startsWith('BACKUP'))?.at.getTime() ?? 0
    const endMs = Date.parse(given.outputs['end-time'] ?? '')
    expect(backupAt - endMs).toBeGreaterThanOrEqual(9_990)
    expect(backupAt - endMs).toBeLessThanOrEqual(10_010)
    expect(given.outputs['rows']).toBe('45')

    const now = await backUp(emu)
    expect(now.outputs['rows']).toBe('50')
  })

  it('an absolute time: sent as written, the backup ends exactly then; one before the database existed says so', async () => {
    const emu = await cluster()
    const createdMs = Date.now() - HOUR_MS
    emu.createDatabase('bank', { accounts: { rows: 40, bytes: 4000 } }, { createdAt: new Date(createdMs) })
    emu.writeRows('bank', 'accounts', { rows: 45, bytes: 4500 }, new Date(Date.now() - 30_000))
    emu.writeRows('bank', 'accounts', { rows: 50, bytes: 5000 }, new Date(Date.now() - 5000))
    const at = new Date(Math.floor((Date.now() - 20_000) / 10) * 10) // whole hundredths: the folder name keeps them

    const given = await backUp(emu, { 'as-of-system-time': at.toISOString() })
    expect(errorsOf(given.stdout)).toEqual([])
    expect(asOfSent(emu)).toEqual([`'${at.toISOString()}'`])
    expect(Date.parse(given.outputs['end-time'] ?? '')).toBe(at.getTime())
    expect(given.outputs['rows']).toBe('45')
    expect(given.stdout).toMatch(
      /\(\S+Z, as given: 2\d\.\d s before the step's start \S+Z, so writes committed in those 2\d\.\d s are not included\)/
    )

    const beforeCreation = new Date(createdMs - 60_000).toISOString()
    const refused = await backUp(emu, { 'as-of-system-time': beforeCreation })
    expect(refused.exitCode).toBe(1)
    expect(errorsOf(refused.stdout).join('\n')).toMatch(
      new RegExp(`^Database "bank" exists now but did not exist yet AS OF SYSTEM TIME ${beforeCreation.replaceAll('.', '\\.')} `)
    )

    const now = await backUp(emu)
    expect(now.outputs['rows']).toBe('50')
  })
})
