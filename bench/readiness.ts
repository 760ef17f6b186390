/**
 * Readiness: the bundled action starts against a port where nothing listens yet (as a service
 * container that is still starting); the emulator starts on that port after a random delay in
 * [0, 3000) ms. Lateness = arrival of the action's first statement − the moment the emulator began
 * listening. The delays are stratified (one in each 3000/n ms slice, in shuffled order) so a run of
 * n covers the whole range.
 */
import { reserveEmulatorPort, startEmulator } from '../test/emulator/index.js'
import { PROFILE } from './overhead.js'
import {
  actionEnv,
  epochMs,
  failedRun,
  median,
  ms,
  quantile,
  sleep,
  table,
  timedRun,
  type BenchContext,
  type Section,
  type TimedRun
} from './lib.js'

const TARGET_MS = 300
const WINDOW_MS = 3000

interface Sample {
  delayMs: number
  latenessMs: number
  /** When the action printed its first line (it is about to connect): start-up, from spawn. */
  readyMs: number
  attempts: number
}

function stratifiedDelays(n: number): number[] {
  const delays = Array.from({ length: n }, (_, i) => ((i + Math.random()) * WINDOW_MS) / n)
  for (let i = delays.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[delays[i], delays[j]] = [delays[j]!, delays[i]!]
  }
  return delays
}

async function oneRun(ctx: BenchContext, delayMs: number): Promise<Sample> {
  const port = await reserveEmulatorPort()
  const url = `postgresql://root@127.0.0.1:${port}/defaultdb?sslmode=disable`
  const { env } = actionEnv(ctx.scratch, { database: 'bank', 'connection-string': url, 'wait-timeout': '30' })
  const running = timedRun(ctx.runner.path, [ctx.bundle.script], { env })
  let result: TimedRun | Error | undefined
  // Settled here so a failed spawn is reported below rather than as an unhandled rejection.
  const settled = running.then(
    run => (result = run),
    (error: unknown) => (result = error instanceof Error ? error : new Error(String(error)))
  )
  const spawnedAt = epochMs()
  await sleep(Math.max(0, spawnedAt + delayMs - epochMs()))
  const listeningAt = epochMs()
  const emu = await startEmulator({ profile: PROFILE, port, jobDurationMs: 0 })
  try {
    emu.createDatabase('bank', { accounts: { rows: 10, bytes: 640 } }) // before any statement is handled
    await settled
    if (result instanceof Error) throw result
    const run = result!
    if (run.code !== 0) throw failedRun(`the action, server up after ${ms(delayMs)} ms`, run)
    const first = emu.statements[0]
    if (!first?.sql.startsWith('SELECT current_user')) throw new Error(`unexpected first statement ${first?.sql}`)
    return {
      delayMs: listeningAt - spawnedAt,
      latenessMs: first.at.getTime() - listeningAt,
      readyMs: run.firstByteMs,
      attempts: 1 + (run.stdout.match(/^::debug::Attempt \d+:/gm)?.length ?? 0)
    }
  } finally {
    await emu.close()
  }
}

export async function measureReadiness(ctx: BenchContext): Promise<Section> {
  const runs = ctx.quick ? 5 : 20
  const samples: Sample[] = []
  for (const delayMs of stratifiedDelays(runs)) samples.push(await oneRun(ctx, delayMs))
  ctx.log(`readiness: ${runs} runs`)

  const late = samples.map(sample => sample.latenessMs)
  // The server came up while the action was still starting (before its first connection attempt).
  const early = samples.filter(sample => sample.delayMs < sample.readyMs)
  const waiting = samples.filter(sample => sample.delayMs >= sample.readyMs)
  const summary = (group: Sample[]): string[] => {
    const values = group.map(sample => sample.latenessMs)
    return [String(group.length), ms(median(values)), ms(quantile(values, 0.9)), ms(Math.max(...values))]
  }
  const rows = [
    ['all runs', ...summary(samples)],
    ['server up while the action was already retrying', ...summary(waiting)],
    ['server up before the action had started (still loading)', ...summary(early)]
  ].filter(row => row[1] !== '0')
  const sorted = [...samples].sort((a, b) => a.delayMs - b.delayMs)
  const markdown = [
    table(['runs', 'n', 'late by: median ms', '90th percentile ms', 'max ms'], rows),
    '',
    `${runs} runs on ${ctx.runner.name} (the runtime action.yml asks for), server up after ${ms(sorted[0]!.delayMs)}–${ms(sorted.at(-1)!.delayMs)} ms, ` +
      `action start-up (spawn → its first log line) ${ms(median(samples.map(sample => sample.readyMs)))} ms median, ` +
      `${median(samples.map(sample => sample.attempts))} connection attempts median (counted from its \`::debug::Attempt\` lines). ` +
      'Each run: a port is reserved and released, the bundled action is started against it (`wait-timeout: 30`), and after the delay the emulator ' +
      `(${PROFILE}) starts listening there; the action then runs a whole backup. Per run, server up after → late by (ms): ` +
      sorted.map(sample => `${ms(sample.delayMs)} → ${ms(sample.latenessMs)}`).join(', ') +
      '.'
  ].join('\n')
  const worst = Math.max(...late)
  return {
    title: 'Readiness',
    markdown,
    verdicts: [
      {
        target: `readiness ≤ ${TARGET_MS} ms late`,
        result: `median ${ms(median(late))} ms, worst ${ms(worst)} ms of ${runs}`,
        met: worst <= TARGET_MS
      }
    ]
  }
}
