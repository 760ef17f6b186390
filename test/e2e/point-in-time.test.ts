/**
 * The restore companion's as-of-system-time, run as the runner runs it (`node dist/restore/index.js`)
 * against the emulator: a time inside a revision-history backup, relative to its end or absolute,
 * from the collection or from a downloaded folder; a time outside it; a backup without revision
 * history; and the inputs refused before connecting.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type ProfileName } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { ROOT, runBundledAction } from '../support/run-action.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'

/** The outputs print a time's fraction without trailing zeros (`…00.27Z`, `…00Z`). */
const TRAILING_ZEROS = /\.?0+Z$/

expectNoInternalsInAnyStatement()

const { emulators, tempDir } = scratchPerTest('e2e-point-in-time-')

const HOUR = 3600_000
const MINUTE = 60_000

async function cluster(profile: ProfileName = 'v23.2'): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs: 100 })
  emulators.push(emu)
  return emu
}

/** bank.accounts: created 3 h ago with 1000 rows, 1500 from 2 h ago, 2000 from 1 h ago. */
function bankWithHistory(emu: Emulator): number {
  const now = Date.now()
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } }, { createdAt: new Date(now - 3 * HOUR) })
  emu.writeRows('bank', 'accounts', { rows: 1500, bytes: 96_000 }, new Date(now - 2 * HOUR))
  emu.writeRows('bank', 'accounts', { rows: 2000, bytes: 128_000 }, new Date(now - HOUR))
  return now
}

async function backup(emu: Emulator, inputs: Record<string, string> = {}): Promise<Record<string, string>> {
  const run = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString(), ...inputs })
  expect(errorsOf(run.stdout)).toEqual([])
  return run.outputs
}

const restore = (emu: Emulator, inputs: Record<string, string>) =>
  runBundledAction({
    script: join(ROOT, 'dist/restore/index.js'),
    actionYml: join(ROOT, 'restore/action.yml'),
    inputs: { database: 'bank', 'new-db-name': 'bank_pit', 'connection-string': emu.connectionString(), ...inputs }
  })

const rowsOf = (emu: Emulator, database = 'bank_pit'): number | undefined =>
  emu.cluster.databases.get(database)?.schemas.get('public')?.get('accounts')?.rows

const restoreStatement = (emu: Emulator): string | undefined => emu.statements.find(s => s.sql.startsWith('RESTORE'))?.sql

const nanosOf = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n

describe('the restore companion with as-of-system-time', () => {
  for (const profile of ['v22.2', 'v23.2', 'v24.3', 'v26.2'] as const) {
    it(`on ${profile} restores a revision-history backup as of 90 minutes before its end (-90m), and says so`, async () => {
      const emu = await cluster(profile)
      bankWithHistory(emu)
      const taken = await backup(emu, { 'revision-history': 'true' })
      const run = await restore(emu, { 'backup-path': taken['backup-path']!, 'as-of-system-time': '-90m' })
      expect(errorsOf(run.stdout)).toEqual([])
      expect(rowsOf(emu)).toBe(1500)
      const expected = new Date(Date.parse(taken['end-time']!) - 90 * MINUTE).toISOString().replace(TRAILING_ZEROS, 'Z')
      expect(run.outputs['restored-as-of']).toBe(expected)
      expect(restoreStatement(emu)).toContain(`AS OF SYSTEM TIME '${nanosOf(expected)}.0000000000' WITH detached`)
      expect(run.summary).toContain(`${expected} (as-of-system-time -90m)`)
      expect(run.stdout).toContain(`Restoring to ${expected} (as-of-system-time: -90m).`)
    })
  }

  it('restores to an absolute timestamp with an offset, read as that time in UTC', async () => {
    const emu = await cluster()
    const now = bankWithHistory(emu)
    const taken = await backup(emu, { 'revision-history': 'true' })
    // 150 minutes ago, written in UTC+01:00: before the first write, so 1000 rows.
    const at = new Date(now - 150 * MINUTE + HOUR)
      .toISOString()
      .replace(/\.\d+Z$/, '+01:00')
      .replace('T', ' ')
    const run = await restore(emu, { 'backup-path': taken['backup-path']!, 'as-of-system-time': at })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(rowsOf(emu)).toBe(1000)
    expect(run.outputs['restored-as-of']).toBe(
      new Date(Math.floor((now - 150 * MINUTE) / 1000) * 1000).toISOString().replace(TRAILING_ZEROS, 'Z')
    )
  })

  it("without as-of-system-time restores the backup's end and gives it as restored-as-of", async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const taken = await backup(emu)
    const run = await restore(emu, { 'backup-path': taken['backup-path']! })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(rowsOf(emu)).toBe(2000)
    expect(Date.parse(run.outputs['restored-as-of']!)).toBe(Date.parse(taken['end-time']!))
    expect(restoreStatement(emu)).not.toContain('AS OF SYSTEM TIME')
    expect(run.summary).toContain('Restored as of')
    expect(run.summary).toContain('(the backup&#39;s end)')
  })

  it("refuses a time before the backup's revision history with CockroachDB's words and the range it covers", async () => {
    const emu = await cluster()
    const now = bankWithHistory(emu)
    const taken = await backup(emu, { 'revision-history': 'true' })
    const run = await restore(emu, { 'backup-path': taken['backup-path']!, 'as-of-system-time': new Date(now - 5 * HOUR).toISOString() })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(
      /cannot be restored to as-of-system-time \S+ \(\S+\): its revision history covers \d{4}-\d\d-\d\d [\d:.]+ \+0000 UTC to \S+/
    )
    expect(error).toContain('invalid RESTORE timestamp: BACKUP for requested time only has revision history from')
    expect(emu.cluster.databases.has('bank_pit')).toBe(false)
    expect(run.outputs).toEqual({})
  })

  it("refuses a time after the backup's end before RESTORE, naming its end and what it covers", async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const taken = await backup(emu, { 'revision-history': 'true' })
    const after = new Date(Date.parse(taken['end-time']!) + MINUTE).toISOString()
    const run = await restore(emu, { 'backup-path': taken['backup-path']!, 'as-of-system-time': after })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toContain(`is after the end of backup ${taken['backup-path']}, ${taken['end-time']!.replace(TRAILING_ZEROS, 'Z')}`)
    expect(error).toMatch(/Taken with revision-history, it restores to any time from the GC threshold/)
    expect(restoreStatement(emu)).toBeUndefined()
  })

  it('names revision-history for a backup taken without it, and its layer end times', async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const taken = await backup(emu)
    const run = await restore(emu, { 'backup-path': taken['backup-path']!, 'as-of-system-time': '-90m' })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(
      /was taken without revision history \(the backup action's revision-history input\), so it restores only to the end of one of its layers \(\S+Z\)/
    )
    expect(error).toContain('take backups with revision-history: true')
    expect(error).toContain("requires that BACKUP for requested time be created with 'revision_history' option. nearest backup time is")
    expect(emu.cluster.databases.has('bank_pit')).toBe(false)
  })

  it("takes the backup action's end-time output as the backup's end: no AS OF SYSTEM TIME, so no revision history is needed", async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const taken = await backup(emu)
    const run = await restore(emu, { 'backup-path': taken['backup-path']!, 'as-of-system-time': taken['end-time']! })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(restoreStatement(emu)).not.toContain('AS OF SYSTEM TIME')
    expect(Date.parse(run.outputs['restored-as-of']!)).toBe(Date.parse(taken['end-time']!))
    expect(rowsOf(emu)).toBe(2000)
  })

  it('restores a revision-history chain to times inside its incremental layer', async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const full = await backup(emu, { 'revision-history': 'true' })
    await new Promise(resolve => setTimeout(resolve, 30))
    const written = Date.now()
    emu.writeRows('bank', 'accounts', { rows: 2600, bytes: 160_000 }, new Date(written))
    await new Promise(resolve => setTimeout(resolve, 30))
    const incremental = await backup(emu, { incremental: 'true', 'revision-history': 'true' })
    expect(Date.parse(incremental['end-time']!)).toBeGreaterThan(written)
    expect(Date.parse(full['end-time']!)).toBeLessThan(written - 1)
    const at = async (ms: number, name: string): Promise<number | undefined> => {
      const run = await restore(emu, {
        'backup-path': full['backup-path']!,
        'new-db-name': name,
        'as-of-system-time': new Date(ms).toISOString()
      })
      expect(errorsOf(run.stdout)).toEqual([])
      return rowsOf(emu, name)
    }
    expect(await at(written - 1, 'before_write')).toBe(2000)
    expect(await at(written, 'at_write')).toBe(2600)
  })

  it("restores a chain without revision history to its full backup's end time exactly", async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const full = await backup(emu)
    emu.writeRows('bank', 'accounts', { rows: 2600, bytes: 160_000 })
    await new Promise(resolve => setTimeout(resolve, 20))
    const incremental = await backup(emu, { incremental: 'true' })
    expect(incremental['backup-path']).toBe(full['backup-path'])
    const run = await restore(emu, { 'backup-path': full['backup-path']!, 'as-of-system-time': full['end-time']! })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(rowsOf(emu)).toBe(2000)
  })

  it('with drop-existing replaces the database by its state 90 minutes before the backup ended (a rollback)', async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const taken = await backup(emu, { 'revision-history': 'true' })
    const run = await restore(emu, {
      'backup-path': taken['backup-path']!,
      'new-db-name': '',
      'drop-existing': 'true',
      'as-of-system-time': '-90m'
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(rowsOf(emu, 'bank')).toBe(1500)
    expect(restoreStatement(emu)).toMatch(
      /^RESTORE DATABASE bank FROM .* AS OF SYSTEM TIME '\d+\.0000000000' WITH detached, new_db_name = /
    )
  })

  it('restores tables as of a time into another database', async () => {
    const emu = await cluster()
    bankWithHistory(emu)
    const taken = await backup(emu, { 'revision-history': 'true' })
    emu.createDatabase('bank_pit', {})
    const run = await restore(emu, {
      database: '',
      tables: 'bank.public.accounts',
      'backup-path': taken['backup-path']!,
      'as-of-system-time': '-150m'
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(rowsOf(emu)).toBe(1000)
  })

  it('restores a downloaded revision-history backup as of -90m from source-path into a fresh cluster', async () => {
    const source = await cluster()
    bankWithHistory(source)
    const dir = join(tempDir(), 'bank-backup')
    const taken = await backup(source, { 'revision-history': 'true', 'download-path': dir })
    const target = await cluster()
    const run = await restore(target, {
      'backup-path': taken['backup-path']!,
      'source-path': dir,
      'new-db-name': '',
      'as-of-system-time': '-90m'
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(rowsOf(target, 'bank')).toBe(1500)
    expect(run.outputs['uploaded-files']).toBe(taken['files'])
  })

  for (const [value, message] of [
    ['2h', /Input 'as-of-system-time': "2h" is after the backup's end; a relative time counts back from it\. Did you mean -2h\?/],
    ['yesterday', /Input 'as-of-system-time': "yesterday" is not accepted\. Use a timestamp such as '2026-11-30 02:00:00'/],
    ['-0s', /Input 'as-of-system-time': "-0s" is the backup's end itself; leave it empty for that\./],
    ['2026-02-30 10:00:00', /Input 'as-of-system-time': "2026-02-30 10:00:00" is not accepted/],
    ['follower_read_timestamp()', /Input 'as-of-system-time': "follower_read_timestamp\(\)" is not accepted/]
  ] as const) {
    it(`refuses as-of-system-time ${JSON.stringify(value)} before connecting`, async () => {
      const emu = await cluster()
      const run = await restore(emu, { 'backup-path': '/2026/12/05-101213.45', 'as-of-system-time': value })
      expect(run.exitCode).toBe(1)
      expect(errorsOf(run.stdout).join('\n')).toMatch(message)
      expect(emu.statements).toEqual([])
    })
  }
})
