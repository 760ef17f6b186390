/**
 * Which time the backup is consistent as of, and why: read the cluster's clock when the step
 * starts, and for the default (`step-start`) wait until that time plus the maximum clock offset
 * has passed on the cluster, then back up AS OF SYSTEM TIME that exact decimal timestamp.
 *
 * Why the offset: AS OF SYSTEM TIME reads have no uncertainty interval, and CockroachDB only
 * promises that node clocks differ by less than the maximum clock offset (`--max-offset`, 500 ms
 * by default). A write that committed on another node just before the step may carry a timestamp
 * up to that offset ahead of the clock we read here, so the step's own reading alone could leave it
 * out. The step's start plus the offset is later than every such write. It is also later than
 * some writes made after the step started; that costs nothing, since the backup is still one
 * consistent snapshot. The offset is a node start flag, not a cluster setting, and no supported
 * SQL shows it (the internal schemas are restricted from v26.1), so it is an input: 0.5 s unless the
 * cluster runs with another `--max-offset`, 0 for a single node.
 *
 * Why not keep `-10s` and wait until it falls after the step's start (the option b): that
 * costs ten seconds on every run; this costs the offset (about 0.5 s, BENCHMARKS.md). Relative and
 * absolute times stay available, honoured exactly as given, for clusters with live traffic.
 */
import { describeAsOf, type AsOfSystemTime, type ExplicitAsOf } from '../cluster/as-of-system-time.js'
import type { Session } from '../cluster/connection.js'
import { abortReason, ActionError, CancelledError } from '../base/errors.js'
import { addMs, formatHlc, hlcToIso, msBetween, notBefore, parseHlc, wholeMicrosecondAfter, type Hlc } from './hlc.js'
import { Inputs } from '../base/constants.js'
import * as sql from '../cluster/sql/index.js'
import { sleep } from '../base/signals.js'

export interface BackupTime {
  /** What the input asked for. */
  requested: AsOfSystemTime | undefined
  /** What goes into the BACKUP statement. */
  asOf: ExplicitAsOf | undefined
  /** The cluster's clock when the step started (after connecting). */
  stepStart: Hlc
  /** For step-start: how long the step waited for the chosen time to pass on the cluster. */
  waitedMs: number
  /** Why this time, and what it means for the writes made before the step (the summary shows it beside the end time). */
  reason: string
  /** For the log before BACKUP: the time itself, then the reason. */
  headline: string
}

export interface BackupTimeOptions {
  maxClockOffsetMs: number
  log: (message: string) => void
  signal?: AbortSignal
  /** Gives up when the cluster's clock has not reached the chosen time after this long beyond the offset. */
  clockStallMs?: number
}

async function readClusterTime(session: Session): Promise<Hlc> {
  const rows = await session.query<{ cluster_logical_timestamp?: unknown }>(
    sql.CLUSTER_LOGICAL_TIMESTAMP,
    [],
    "reading the cluster's clock (cluster_logical_timestamp())"
  )
  const value = rows[0]?.cluster_logical_timestamp
  const hlc = typeof value === 'string' ? parseHlc(value) : undefined
  if (hlc === undefined) {
    const what = rows.length === 0 ? 'no row' : value === null || value === undefined ? 'NULL' : JSON.stringify(value)
    throw new ActionError(`cluster_logical_timestamp() returned ${what}, not a decimal timestamp.`)
  }
  return hlc
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}

/**
 * Waits until the cluster's clock has reached `target`, so AS OF SYSTEM TIME `target` is not in the
 * future. The wait is bounded by the offset plus `clockStallMs`, whatever a reading says: a reading
 * far behind the first (a clock that jumped back) stops the wait instead of setting its length.
 */
async function waitForClusterTime(session: Session, start: Hlc, target: Hlc, options: BackupTimeOptions): Promise<number> {
  const began = Date.now()
  const offsetMs = msBetween(start, target)
  const deadline = began + offsetMs + (options.clockStallMs ?? 10_000)
  let remainingMs = offsetMs
  for (;;) {
    if (remainingMs > 0) await sleep(Math.ceil(Math.min(remainingMs, Math.max(1, deadline - Date.now()))), options.signal)
    if (options.signal?.aborted) {
      throw new CancelledError(abortReason(options.signal), 'waiting for the chosen time to pass on the cluster, before the backup started')
    }
    const now = await readClusterTime(session)
    if (notBefore(now, target)) return Date.now() - began
    // Readings from different nodes (behind a pooler) may differ by the offset, not more.
    const behindMs = msBetween(now, start)
    if (behindMs > offsetMs) {
      throw new ActionError(
        `The cluster's clock went backwards: it read ${hlcToIso(now)}, ${seconds(behindMs)} before the step's start ${hlcToIso(start)}, more than ${Inputs.MaxClockOffset} (${seconds(offsetMs)}) allows.`,
        `Check the clock synchronisation of the cluster's nodes, and that ${Inputs.MaxClockOffset} matches their --max-offset.`
      )
    }
    if (Date.now() >= deadline) {
      throw new ActionError(
        `The cluster's clock did not reach ${hlcToIso(target)} (the step's start plus ${Inputs.MaxClockOffset}); it reads ${hlcToIso(now)}.`
      )
    }
    remainingMs = Math.max(1, msBetween(now, target))
  }
}

/** Reads the step's start on the cluster and settles the time to back up as of. */
export async function chooseBackupTime(
  session: Session,
  requested: AsOfSystemTime | undefined,
  options: BackupTimeOptions
): Promise<BackupTime> {
  const stepStart = await readClusterTime(session)
  if (requested?.kind !== 'step-start') {
    const reason =
      requested === undefined
        ? 'now, with no AS OF SYSTEM TIME (every write committed before the step included; the backup reads the present)'
        : `${describeAsOf(requested)}, as given (the step started at ${hlcToIso(stepStart)}; writes committed after the backup's time are not included)`
    return { requested, asOf: requested, stepStart, waitedMs: 0, reason, headline: reason }
  }
  const target = wholeMicrosecondAfter(addMs(stepStart, options.maxClockOffsetMs))
  if (options.maxClockOffsetMs > 0) {
    options.log(
      `The step started at ${hlcToIso(stepStart)} on the cluster's clock; waiting ${seconds(options.maxClockOffsetMs)} (${Inputs.MaxClockOffset}) so that writes another node committed just before are included.`
    )
  }
  // With no offset the target is at most a microsecond past the reading: a second reading is past it.
  const waitedMs = notBefore(stepStart, target) ? 0 : await waitForClusterTime(session, stepStart, target, options)
  const offset =
    options.maxClockOffsetMs > 0
      ? ` plus the ${seconds(options.maxClockOffsetMs)} maximum clock offset (waited ${seconds(waitedMs)} for it to pass)`
      : ''
  const scope = options.maxClockOffsetMs > 0 ? '' : ` (${Inputs.MaxClockOffset} 0: on a single-node cluster)`
  const reason = `the step's start ${hlcToIso(stepStart)}${offset}, so every write committed before the step is included${scope}`
  return {
    requested,
    asOf: { kind: 'hlc', value: formatHlc(target) },
    stepStart,
    waitedMs,
    reason,
    headline: `${hlcToIso(target)}: ${reason}`
  }
}

/**
 * After the backup: how its end time relates to the step's start. For a time given by the user,
 * this is where a gap shows ("writes of the 9.50 s before the step started are not included").
 */
export function explainEndTime(time: BackupTime, endTimeIso: string): string {
  if (time.requested === undefined || time.requested.kind === 'step-start') return time.reason
  const endMs = Date.parse(endTimeIso)
  if (Number.isNaN(endMs)) return time.reason
  const gapMs = Number(time.stepStart.wallNs / 1_000_000n) - endMs
  const given = `${describeAsOf(time.requested)}, as given`
  if (gapMs <= 0) return `${given}: after the step's start ${hlcToIso(time.stepStart)}, so every earlier write is included`
  return `${given}: ${seconds(gapMs)} before the step's start ${hlcToIso(time.stepStart)}, so writes committed in those ${seconds(gapMs)} are not included`
}

/** "AS OF SYSTEM TIME … " in words, for the error when a target did not exist yet at that time. */
export function describeBackupTime(time: BackupTime): string {
  return time.requested === undefined ? 'now' : `${describeAsOf(time.requested)} (the step started at ${hlcToIso(time.stepStart)})`
}
