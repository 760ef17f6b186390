/**
 * `npm run bench:backup-time`: what the default backup time (`step-start`, issue 11) adds to a run,
 * against the previous default (`-10s`) in the same run. Each round runs the committed bundle as the
 * runner does (INPUT_* variables, a child `node dist/index.js`) against the emulator, once per
 * contender, in rotating order; a job that completes at once, so the difference is the action's own:
 * - `-10s`: the previous default, no clock reading and no wait (it misses the last 10 s of writes);
 * - `step-start` (default inputs): one clock reading, the 0.5 s max-clock-offset wait, a second reading;
 * - `step-start` with `max-clock-offset: 0`: the clock reading alone (a single-node cluster).
 * Each contender writes into a collection of its own, so their date-named folders cannot collide.
 * Prints a markdown table: min / median / max of the whole step, and the median minus -10s's.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { startEmulator } from '../test/emulator/index.js'
import { inputEnv, ROOT } from '../test/support/run-action.js'

const RUNS = Number(/^--runs=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 15)

interface Contender {
  name: string
  inputs: Record<string, string>
}

const CONTENDERS: Contender[] = [
  { name: '`-10s` (previous default)', inputs: { 'as-of-system-time': '-10s', collection: 'userfile:///bench-minus-10s' } },
  { name: '`step-start` (default inputs)', inputs: { collection: 'userfile:///bench-step-start' } },
  { name: '`step-start`, `max-clock-offset: 0`', inputs: { 'max-clock-offset': '0', collection: 'userfile:///bench-no-offset' } }
]

function runOnce(inputs: Record<string, string>): Promise<number> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_')))
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [join(ROOT, 'dist/index.js')], { env: { ...clean, ...inputEnv(inputs) }, stdio: 'ignore' })
    child.on('error', reject)
    child.on('close', code =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`exit ${code} for ${JSON.stringify(inputs)}`))
    )
  })
}

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)
const median = (values: number[]): number => sorted(values)[Math.floor(values.length / 2)] ?? Number.NaN

async function main(): Promise<void> {
  const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 0 })
  try {
    emu.createDatabase('bank', { accounts: { rows: 100, bytes: 6400 } })
    const times = CONTENDERS.map(() => [] as number[])
    for (let round = 0; round < RUNS; round++) {
      for (let k = 0; k < CONTENDERS.length; k++) {
        const index = (round + k) % CONTENDERS.length // rotate who goes first
        const contender = CONTENDERS[index]
        if (!contender) continue
        const elapsed = await runOnce({ database: 'bank', 'connection-string': emu.connectionString(), ...contender.inputs })
        times[index]?.push(elapsed)
      }
    }
    const baseline = median(times[0] ?? [])
    const lines = ['| as-of-system-time | min ms | median ms | max ms | median − `-10s` ms |', '| --- | --- | --- | --- | --- |']
    CONTENDERS.forEach((contender, i) => {
      const t = sorted(times[i] ?? [])
      const fmt = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(0))
      lines.push(`| ${contender.name} | ${fmt(t[0])} | ${fmt(median(t))} | ${fmt(t.at(-1))} | ${fmt(median(t) - baseline)} |`)
    })
    console.log(lines.join('\n'))
    console.log(`\n${RUNS} rounds, contenders interleaved (rotating order), whole step from spawn to exit, Node ${process.versions.node}.`)
  } finally {
    await emu.close()
  }
}

await main()
