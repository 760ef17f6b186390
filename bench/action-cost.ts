/**
 * `npm run bench`: the action's own cost, next to the lean alternatives, in one run (issue 7).
 * - cold start of the bundle on inputs that fail validation, against bare `node -e ''`;
 * - a whole backup against the emulator with a job that completes at once: the bundle as the runner
 *   starts it, a bare psql script sending the same statements, and that script via @actions/exec;
 * - readiness: how late the action's first query comes after the emulator starts listening;
 * - job following: polls per job-minute and how late the end of a job is noticed.
 * Prints markdown tables; medians, with contenders interleaved.
 */
import { spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { reserveEmulatorPort, startEmulator, type Emulator } from '../test/emulator/index.js'
import { inputEnv, ROOT } from '../test/support/run-action.js'

/** A Node 24 binary (the action's runtime) to measure beside the current Node, as in bench/cold-start.ts. */
const NODE24 = process.env.BENCH_NODE24
const COLD_RUNS = 21
const OVERHEAD_RUNS = 11
const READINESS_RUNS = 15

interface Timing {
  firstByteMs: number
  exitMs: number
  code: number | null
}

/** Starts a process and times its first byte of stdout and its exit. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let firstByteMs = Number.NaN
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] })
    child.stdout.on('data', () => {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started
    })
    child.on('error', reject)
    child.on('close', code => resolve({ firstByteMs, exitMs: performance.now() - started, code }))
  })
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
const ms = (value: number): string => (Number.isNaN(value) ? '–' : value.toFixed(0))

function actionEnv(inputs: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_')))
  return { ...clean, ...inputEnv(inputs) }
}

async function coldStart(): Promise<string> {
  const nodes = [['Node 20', process.execPath], ...(NODE24 !== undefined && existsSync(NODE24) ? [['Node 24', NODE24]] : [])] as [
    string,
    string
  ][]
  const lines = [
    '| runtime | bare `node -e ""` exit ms | action first byte ms | action exit ms | action − bare ms |',
    '| --- | --- | --- | --- | --- |'
  ]
  const env = actionEnv({ database: 'bank', timeout: 'abc' })
  for (const [name, node] of nodes) {
    const bare: Timing[] = []
    const action: Timing[] = []
    for (let i = 0; i < COLD_RUNS; i++) {
      bare.push(await timed(node, ['-e', '']))
      const run = await timed(node, [join(ROOT, 'dist/index.js')], env)
      if (run.code !== 1) throw new Error(`the bundle should fail validation, exited ${run.code}`)
      action.push(run)
    }
    const bareExit = median(bare.map(t => t.exitMs))
    const exit = median(action.map(t => t.exitMs))
    lines.push(`| ${name} | ${ms(bareExit)} | ${ms(median(action.map(t => t.firstByteMs)))} | ${ms(exit)} | ${ms(exit - bareExit)} |`)
  }
  const size = (file: string): string => `${(statSync(join(ROOT, file)).size / 1024).toFixed(0)} KiB`
  return `${lines.join('\n')}\n\nMedians of ${COLD_RUNS} runs each, interleaved. Bundle sizes: dist/index.js ${size('dist/index.js')}, dist/restore/index.js ${size('dist/restore/index.js')}.`
}

async function overhead(): Promise<string> {
  const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 0 })
  emu.createDatabase('bank', { accounts: { rows: 100, bytes: 6400 } })
  const url = emu.connectionString()
  const statements = (collection: string): string[] => [
    `SHOW BACKUPS IN '${collection}'`,
    `BACKUP DATABASE bank INTO '${collection}' AS OF SYSTEM TIME '-10s'`,
    `SHOW BACKUPS IN '${collection}'`,
    `SHOW BACKUP LATEST IN '${collection}' WITH check_files`
  ]
  const contenders: Record<string, (collection: string) => Promise<Timing>> = {
    action: collection =>
      timed(process.execPath, [join(ROOT, 'dist/index.js')], actionEnv({ database: 'bank', collection, 'connection-string': url })),
    psql: collection => timed('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...statements(collection).flatMap(s => ['-c', s])]),
    'exec+psql': collection => timed(process.execPath, [join(ROOT, 'bench/exec-psql.mjs'), url, ...statements(collection)])
  }
  const names = Object.keys(contenders)
  const results: Record<string, number[]> = Object.fromEntries(names.map(name => [name, []]))
  try {
    for (let round = 0; round < OVERHEAD_RUNS; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length] ?? ''
        const run = await contenders[name]?.(`userfile:///bench-${round}-${k}`)
        if (run?.code !== 0) throw new Error(`${name} failed with exit code ${run?.code}`)
        results[name]?.push(run.exitMs)
      }
    }
  } finally {
    await emu.close()
  }
  const med = Object.fromEntries(names.map(name => [name, median(results[name] ?? [])]))
  const lines = ['| contender | median ms | vs bare psql script |', '| --- | --- | --- |']
  for (const name of names)
    lines.push(`| ${name} | ${ms(med[name] ?? Number.NaN)} | ${((med[name] ?? 0) / (med['psql'] ?? 1)).toFixed(2)}× |`)
  return `${lines.join('\n')}\n\nMedians of ${OVERHEAD_RUNS} rounds; each round runs the three in a rotated order, each into a fresh collection. The job completes at once (emulator job duration 0).`
}

async function readiness(): Promise<string> {
  const lateness: number[] = []
  const delays: number[] = []
  for (let i = 0; i < READINESS_RUNS; i++) {
    const port = await reserveEmulatorPort()
    const url = `postgresql://root@127.0.0.1:${port}/defaultdb?sslmode=disable`
    const child = timed(
      process.execPath,
      [join(ROOT, 'dist/index.js')],
      actionEnv({ database: 'bank', 'connection-string': url, 'wait-timeout': '20' })
    )
    const delay = Math.random() * 3000
    await new Promise(resolve => setTimeout(resolve, delay))
    let emu: Emulator | undefined
    try {
      emu = await startEmulator({ profile: 'v23.2', port, jobDurationMs: 0 })
      const listening = Date.now()
      emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
      const run = await child
      if (run.code !== 0) throw new Error(`the action failed (exit ${run.code})`)
      const first = emu.statements[0]
      if (!first) throw new Error('no statement arrived')
      lateness.push(first.at.getTime() - listening)
      delays.push(delay)
    } finally {
      await emu?.close()
    }
  }
  const sorted = [...lateness].sort((a, b) => a - b)
  return `| runs | server up after (ms, range) | first query late by: median ms | max ms |\n| --- | --- | --- | --- |\n| ${READINESS_RUNS} | ${ms(Math.min(...delays))}–${ms(Math.max(...delays))} | ${ms(median(lateness))} | ${ms(sorted.at(-1) ?? Number.NaN)} |`
}

async function jobFollowing(): Promise<string> {
  const lines = ['| job duration | polls | polls per job-minute | noticed late by ms |', '| --- | --- | --- | --- |']
  for (const durationMs of [2_000, 10_000, 60_000]) {
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: durationMs })
    try {
      emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
      const run = await timed(
        process.execPath,
        [join(ROOT, 'dist/index.js')],
        actionEnv({ database: 'bank', 'connection-string': emu.connectionString() })
      )
      if (run.code !== 0) throw new Error(`the action failed (exit ${run.code})`)
      const job = [...emu.cluster.jobs.values()][0]
      const finished = job?.finished?.getTime()
      if (finished === undefined) throw new Error('the job did not finish')
      const polls = emu.statements.filter(s => s.sql.includes('FROM [SHOW JOB '))
      const noticed = polls.find(s => s.at.getTime() >= finished)
      const late = noticed ? noticed.at.getTime() - finished : Number.NaN
      lines.push(`| ${durationMs / 1000} s | ${polls.length} | ${((polls.length * 60_000) / durationMs).toFixed(0)} | ${ms(late)} |`)
    } finally {
      await emu.close()
    }
  }
  return lines.join('\n')
}

const sections: [string, () => Promise<string>][] = [
  ['Cold start (inputs that fail validation)', coldStart],
  ['A whole backup, the job completing at once', overhead],
  ['Readiness: the cluster comes up while the action waits', readiness],
  ['Job following', jobFollowing]
]
for (const [title, measure] of sections) {
  console.error(`measuring: ${title}`)
  console.log(`### ${title}\n\n${await measure()}\n`)
}
