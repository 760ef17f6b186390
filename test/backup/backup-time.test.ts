/** src/backup-time.ts against the emulator's clock: which time is chosen, the wait, and what the log says. */
import { describe, expect, it } from 'vitest'
import { chooseBackupTime, explainEndTime } from '../../src/backup/backup-time.js'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { formatHlc, hlcToIso } from '../../src/backup/hlc.js'
import { startEmulator } from '../emulator/index.js'
import { emulatorSessionPerTest } from '../support/emulator-session.js'

const held = emulatorSessionPerTest()

async function open(now?: () => Date): Promise<Session> {
  held.emulator = await startEmulator({ profile: 'v25.2', now })
  held.session = await Session.open(parseConnectionString(held.emulator.connectionString()), { waitTimeoutMs: 5000 })
  return held.session
}

const log = (): void => undefined

describe('chooseBackupTime', () => {
  it('step-start: the first clock reading plus the offset, sent only once the cluster clock has passed it', async () => {
    const s = await open()
    const lines: string[] = []
    const time = await chooseBackupTime(s, { kind: 'step-start' }, { maxClockOffsetMs: 300, log: line => lines.push(line) })
    expect(lines).toEqual([
      `The step started at ${hlcToIso(time.stepStart)} on the cluster's clock; waiting 0.30 s (max-clock-offset) so that writes another node committed just before are included.`
    ])
    const readings = held.emulator!.statements.filter(st => st.sql === 'SELECT cluster_logical_timestamp()')
    expect(readings.length).toBeGreaterThanOrEqual(2)
    const target = time.stepStart.wallNs + 300_000_000n
    expect(time.asOf).toEqual({ kind: 'hlc', value: formatHlc({ wallNs: target, logical: 0n }) })
    expect(BigInt(readings.at(-1)!.at.getTime()) * 1_000_000n).toBeGreaterThanOrEqual(target)
    expect(time.waitedMs).toBeGreaterThanOrEqual(290)
    expect(time.headline).toBe(
      `${hlcToIso({ wallNs: target, logical: 0n })}: the step's start ${hlcToIso(time.stepStart)} plus the 0.30 s maximum clock offset (waited ${(time.waitedMs / 1000).toFixed(2)} s for it to pass), so every write committed before the step is included`
    )
  })

  it('step-start with max-clock-offset 0: the reading itself, no wait and no second reading', async () => {
    const s = await open()
    const time = await chooseBackupTime(s, { kind: 'step-start' }, { maxClockOffsetMs: 0, log })
    expect(time.asOf).toEqual({ kind: 'hlc', value: formatHlc(time.stepStart) })
    expect(time.reason).toBe(
      `the step's start ${hlcToIso(time.stepStart)}, so every write committed before the step is included (max-clock-offset 0: on a single-node cluster)`
    )
    expect(time.waitedMs).toBe(0)
    expect(held.emulator!.statements.filter(st => st.sql === 'SELECT cluster_logical_timestamp()')).toHaveLength(1)
  })

  it('gives up, saying so, when the cluster clock does not advance to the chosen time', async () => {
    const frozen = new Date()
    const s = await open(() => frozen)
    await expect(chooseBackupTime(s, { kind: 'step-start' }, { maxClockOffsetMs: 100, log, clockStallMs: 200 })).rejects.toThrow(
      /^The cluster's clock did not reach \S+Z \(the step's start plus max-clock-offset\); it reads \S+Z\.$/
    )
  })

  it('stops waiting when the workflow is cancelled', async () => {
    const s = await open()
    const controller = new AbortController()
    setTimeout(() => controller.abort('SIGTERM'), 50)
    const started = Date.now()
    await expect(chooseBackupTime(s, { kind: 'step-start' }, { maxClockOffsetMs: 5000, log, signal: controller.signal })).rejects.toThrow(
      'The workflow was cancelled (SIGTERM) while waiting for the chosen time to pass on the cluster, before the backup started.'
    )
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('an explicit time is passed on as given, after one reading for the log', async () => {
    const s = await open()
    const time = await chooseBackupTime(s, { kind: 'interval', value: '-10s' }, { maxClockOffsetMs: 500, log })
    expect(time.asOf).toEqual({ kind: 'interval', value: '-10s' })
    expect(time.waitedMs).toBe(0)
    const startMs = Number(time.stepStart.wallNs / 1_000_000n)
    expect(explainEndTime(time, new Date(startMs - 9_900).toISOString())).toBe(
      `-10s, as given: 9.90 s before the step's start ${hlcToIso(time.stepStart)}, so writes committed in those 9.90 s are not included`
    )
    expect(explainEndTime(time, new Date(startMs + 100).toISOString())).toBe(
      `-10s, as given: after the step's start ${hlcToIso(time.stepStart)}, so every earlier write is included`
    )
  })
})
