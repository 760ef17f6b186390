/**
 * full-every and backup-type, as the runner runs the committed bundle: the type follows the age of
 * the newest full backup on the cluster's clock (the emulator's, moved by `now`), and every run says
 * which type it wrote and why.
 */
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import type { ProfileName } from '../emulator/profiles.js'
import { runBundledAction, type ActionRun } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf } from '../support/run-in-process.js'

const HOUR_MS = 3600_000
const DAY_MS = 24 * HOUR_MS

const { emulators } = scratchPerTest('cadence-')

/** An emulator whose clock is `offset.ms` ahead of the runner's, movable between runs. */
async function cluster(profile: ProfileName = 'v25.2'): Promise<{ emu: Emulator; offset: { ms: number } }> {
  const offset = { ms: 0 }
  const emu = await startEmulator({ profile, jobDurationMs: 50, now: () => new Date(Date.now() + offset.ms) })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 500, bytes: 32_000 } })
  return { emu, offset }
}

async function backUp(emu: Emulator, inputs: Record<string, string> = {}): Promise<ActionRun> {
  const run = await runBundledAction({ inputs: { 'connection-string': emu.connectionString(), database: 'bank', ...inputs } })
  expect(errorsOf(run.stdout)).toEqual([])
  expect(run.exitCode).toBe(0)
  return run
}

/** A row of the job summary's key-value table: Type is `full: <why>`. */
function summaryRow(run: ActionRun, key: string): string | undefined {
  return new RegExp(`<th[^>]*>${key}</th>\\s*<td[^>]*>([^<]*)</td>`).exec(run.summary)?.[1]
}
const typeRow = (run: ActionRun) => summaryRow(run, 'Type')

describe('full-every, bundled', () => {
  it('takes the first full backup of an empty collection, then appends while the full is young, then starts a new full', async () => {
    const { emu, offset } = await cluster()
    const first = await backUp(emu, { 'full-every': '7d' })
    expect(first.outputs['backup-type']).toBe('full')
    expect(typeRow(first)).toBe('full: the collection has no full backup yet; full-every is 7d')

    offset.ms = 5 * DAY_MS
    const young = await backUp(emu, { 'full-every': '7d' })
    expect(young.outputs['backup-type']).toBe('incremental')
    expect(young.outputs['backup-path']).toBe(first.outputs['backup-path'])
    expect(typeRow(young)).toBe(`incremental: the newest full backup, ${first.outputs['backup-path']}, is 5 days old; full-every is 7d`)
    // Appended to the folder it measured, by name (not LATEST).
    expect(
      emu.statements.map(s => s.sql).find(sql => sql.startsWith('BACKUP') && sql.includes(`INTO '${first.outputs['backup-path']}' IN`))
    ).toBeDefined()

    offset.ms = 7 * DAY_MS
    const old = await backUp(emu, { 'full-every': '7d' })
    expect(old.outputs['backup-type']).toBe('full')
    expect(old.outputs['backup-path']).not.toBe(first.outputs['backup-path'])
    expect(typeRow(old)).toBe(`full: the newest full backup, ${first.outputs['backup-path']}, is 7 days old; full-every is 7d`)
  })

  it('measures on the cluster’s clock, not the runner’s', async () => {
    const { emu, offset } = await cluster()
    const first = await backUp(emu, { 'full-every': '36h' })
    // The runner's clock stays where it is; only the cluster's moves past 36 h.
    offset.ms = 37 * HOUR_MS
    const next = await backUp(emu, { 'full-every': '36h' })
    expect(next.outputs['backup-type']).toBe('full')
    expect(typeRow(next)).toMatch(
      new RegExp(`the newest full backup, ${first.outputs['backup-path']}, is 1 day 13 hours old; full-every is 36h`)
    )
  })

  it('appends to the newest full backup by end time even when LATEST names another (a full backup AS OF an earlier time finished last)', async () => {
    const { emu, offset } = await cluster()
    const newest = await backUp(emu)
    offset.ms = 10 * 60_000
    const earlier = await backUp(emu, { 'as-of-system-time': '-1h' }) // completes last, so LATEST names it
    expect(earlier.outputs['backup-path']! < newest.outputs['backup-path']!).toBe(true)
    offset.ms = 20 * 60_000
    const run = await backUp(emu, { 'full-every': '90m' })
    expect(run.outputs['backup-type']).toBe('incremental')
    expect(run.outputs['backup-path']).toBe(newest.outputs['backup-path'])
  })

  it('ignores explicit subdirectories when it looks for the newest full backup', async () => {
    const { emu, offset } = await cluster('v21.2') // the last version where INTO 'sub' IN can take a full backup
    await backUp(emu, { subdirectory: 'release-42' })
    offset.ms = HOUR_MS
    const run = await backUp(emu, { 'full-every': '7d' })
    expect(run.outputs['backup-type']).toBe('full')
    expect(typeRow(run)).toBe('full: the collection has no full backup yet; full-every is 7d')
  })

  it('sets backup-type on every path without full-every, and says why', async () => {
    const { emu } = await cluster()
    const full = await backUp(emu)
    expect(full.outputs['backup-type']).toBe('full')
    expect(typeRow(full)).toBe('full: a full backup on every run (neither full-every nor incremental is set)')
    const incremental = await backUp(emu, { incremental: 'true' })
    expect(incremental.outputs['backup-type']).toBe('incremental')
    expect(typeRow(incremental)).toBe('incremental: incremental: true appends to the latest full backup')
    const sub = await backUp(emu, { subdirectory: full.outputs['backup-path']!.slice(1) })
    expect(sub.outputs['backup-type']).toBe('incremental')
    expect(typeRow(sub)).toMatch(/^incremental: subdirectory .* appends to the full backup there$/)
  })

  it.each([
    ['incremental', { incremental: 'true' }, /Inputs 'full-every' and 'incremental': full-every already chooses/],
    [
      'subdirectory',
      { subdirectory: '2026/11/30-020000.00' },
      /Inputs 'full-every' and 'subdirectory': full-every starts new full backups/
    ],
    ['a bad duration', {}, /Input 'full-every': "1w" is not a duration/]
  ])('refuses full-every with %s before connecting', async (_name, extra, message) => {
    const run = await runBundledAction({
      inputs: {
        'connection-string': 'postgresql://root@127.0.0.1:1/defaultdb',
        database: 'bank',
        'full-every': 'incremental' in extra || 'subdirectory' in extra ? '7d' : '1w',
        ...extra
      }
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(message)
  })

  it('counts a chain with a compacted layer by its layers, and never sums the compaction into this run’s layer', async () => {
    const { emu, offset } = await cluster('v25.3')
    const collection = 'userfile://defaultdb.public.userfiles_root/bank-backup'
    const full = await backUp(emu, { 'full-every': '7d' })
    for (const [day, rows] of [
      [1, 520],
      [2, 530]
    ] as const) {
      offset.ms = day * DAY_MS
      emu.writeRows('bank', 'accounts', { rows, bytes: rows * 64 })
      await backUp(emu, { 'full-every': '7d' })
    }
    emu.compactBackup(collection, full.outputs['backup-path']!) // what a schedule's compaction would leave: 4 layers, 3 end times
    offset.ms = 3 * DAY_MS
    emu.writeRows('bank', 'accounts', { rows: 533, bytes: 533 * 64 })
    const appended = await backUp(emu, { 'full-every': '7d' })
    expect(summaryRow(appended, 'Layers in the chain')).toBe('5')
    expect(appended.outputs['rows']).toBe('3')

    // A compaction that ends where this run's layer ends (it ran between the job and SHOW BACKUP).
    offset.ms = 4 * DAY_MS
    emu.writeRows('bank', 'accounts', { rows: 540, bytes: 540 * 64 })
    emu.setQueryDelay(300, /^SHOW BACKUP '/)
    let compacted = false
    const run = await runBundledAction({
      inputs: { 'connection-string': emu.connectionString(), database: 'bank', 'full-every': '7d' },
      onStdout: chunk => {
        if (!compacted && /Finding the new backup/.test(chunk)) {
          compacted = true
          emu.compactBackup(collection, full.outputs['backup-path']!)
        }
      }
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(compacted).toBe(true)
    expect(summaryRow(run, 'Layers in the chain')).toBe('7')
    expect(run.outputs['backup-type']).toBe('incremental')
    expect(run.outputs['rows']).toBe('7') // this run's 7 changed rows, not the compaction's 40 beside them
  })
})
