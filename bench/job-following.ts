/**
 * Job following: the bundled action runs a whole backup whose job takes 2 s, 10 s or 60 s on the
 * emulator. From the emulator's statement log and its job record: how many crdb_internal.jobs polls
 * the action sent per minute of job time, the longest gap between two polls, and how late the poll
 * that saw the job succeeded came after the job finished.
 */
import { startEmulator, type StatementLogEntry } from '../test/emulator/index.js'
import { PROFILE } from './overhead.js'
import { actionEnv, failedRun, median, ms, table, timedRun, type BenchContext, type Section } from './lib.js'

const TARGET_LATE_MS = 1000
const TARGET_POLLS_PER_SECOND = 1
/** The rate is judged after the first 2 s, when the schedule has reached its steady interval. */
const RAMP_MS = 2000

interface Sample {
  jobMs: number
  polls: number
  /** Polls per second after the first RAMP_MS of the job; NaN for shorter jobs. */
  steadyRate: number
  maxGapMs: number
  lateMs: number
}

async function oneRun(ctx: BenchContext, durationMs: number): Promise<Sample> {
  const emu = await startEmulator({ profile: PROFILE, jobDurationMs: durationMs })
  try {
    emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
    const { env } = actionEnv(ctx.scratch, { database: 'bank', 'connection-string': emu.connectionString() })
    const run = await timedRun(ctx.runner.path, [ctx.bundle.script], { env, timeoutMs: durationMs + 60_000 })
    if (run.code !== 0) throw failedRun(`the action with a ${durationMs} ms job`, run)
    const jobs = [...emu.cluster.jobs.values()]
    const job = jobs[0]
    if (jobs.length !== 1 || job?.status !== 'succeeded' || !job.finished)
      throw new Error(`expected one succeeded job, got ${JSON.stringify(jobs)}`)
    const created = job.created.getTime()
    const finished = job.finished.getTime()
    const isPoll = (statement: StatementLogEntry): boolean => statement.sql.includes('crdb_internal.jobs')
    const polls = emu.statements.filter(isPoll).map(statement => statement.at.getTime())
    const noticed = polls.at(-1)! // the action stops polling at the poll that saw `succeeded`
    const after = emu.statements.find(statement => statement.at.getTime() >= noticed && !isPoll(statement))
    if (!after?.sql.startsWith('SHOW BACKUPS')) throw new Error(`after the last poll came ${after?.sql}`)
    const steady = polls.filter(at => at >= created + RAMP_MS)
    const gaps = polls.slice(1).map((at, i) => at - polls[i]!)
    return {
      jobMs: finished - created,
      polls: polls.length,
      steadyRate: finished - created > RAMP_MS ? (steady.length * 1000) / (noticed - created - RAMP_MS) : Number.NaN,
      maxGapMs: Math.max(...gaps),
      lateMs: noticed - finished
    }
  } finally {
    await emu.close()
  }
}

export async function measureJobFollowing(ctx: BenchContext): Promise<Section> {
  const plan: [durationMs: number, runs: number][] = ctx.quick
    ? [
        [2_000, 1],
        [5_000, 1]
      ]
    : [
        [2_000, 3],
        [10_000, 3],
        [60_000, 1]
      ]
  const byDuration = new Map<number, Sample[]>()
  for (const [durationMs, runs] of plan) {
    for (let i = 0; i < runs; i++) {
      const sample = await oneRun(ctx, durationMs)
      byDuration.set(durationMs, [...(byDuration.get(durationMs) ?? []), sample])
      ctx.log(`job following: ${durationMs / 1000} s job, run ${i + 1} of ${runs}`)
    }
  }

  const rows = [...byDuration].map(([durationMs, samples]) => {
    const jobMinutes = samples.map(sample => sample.jobMs / 60_000)
    const perMinute = median(samples.map((sample, i) => sample.polls / jobMinutes[i]!))
    return [
      `${durationMs / 1000} s`,
      String(samples.length),
      ms(median(samples.map(sample => sample.jobMs))),
      String(median(samples.map(sample => sample.polls))),
      perMinute.toFixed(0),
      (perMinute / 60).toFixed(2),
      Number.isFinite(samples[0]!.steadyRate) ? median(samples.map(sample => sample.steadyRate)).toFixed(2) : '–',
      ms(Math.max(...samples.map(sample => sample.maxGapMs))),
      samples.map(sample => ms(sample.lateMs)).join(', ')
    ]
  })
  const all = [...byDuration.values()].flat()
  const worstLate = Math.max(...all.map(sample => sample.lateMs))
  const longest = byDuration.get(Math.max(...byDuration.keys()))!
  const steadyRate = median(longest.map(sample => sample.steadyRate))
  const markdown = [
    table(
      [
        'job',
        'runs',
        'actual job ms (median)',
        'polls (median)',
        'polls per job-minute',
        'polls per second, whole job',
        `polls per second after the first ${RAMP_MS / 1000} s`,
        'longest gap between polls ms',
        'noticed late by ms (each run)'
      ],
      rows
    ),
    '',
    `The bundled action on ${ctx.runner.name}, emulator ${PROFILE} with \`setJobDuration\`-style job durations (the emulator advances jobs on a 10 ms timer, so a job runs a few ms longer than asked; "actual" is its created → finished time). ` +
      '"Noticed late by" is the arrival of the poll that saw `succeeded` minus the job\'s finish time, both from the emulator (millisecond resolution).'
  ].join('\n')
  return {
    title: 'Job following',
    markdown,
    verdicts: [
      {
        target: `completion noticed within ${TARGET_LATE_MS / 1000} s`,
        result: `worst ${ms(worstLate)} ms late over ${all.length} jobs`,
        met: worstLate <= TARGET_LATE_MS
      },
      {
        target: `no more than ~${TARGET_POLLS_PER_SECOND} query per second`,
        result: `${steadyRate.toFixed(2)} polls/s after the first ${RAMP_MS / 1000} s of the ${Math.max(...byDuration.keys()) / 1000} s job; ${rows.map(row => `${row[0]}: ${row[5]}/s`).join(', ')} over whole jobs`,
        met: steadyRate <= TARGET_POLLS_PER_SECOND * 1.05
      }
    ]
  }
}
