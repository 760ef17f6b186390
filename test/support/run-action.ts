/**
 * Runs the action the way the GitHub runner does: `node dist/index.js` with INPUT_* variables
 * (action.yml defaults filled in, then the step's `with:`), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY
 * files. Also reads back what the step wrote.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

export const ROOT = new URL('../..', import.meta.url).pathname

interface ActionSpec {
  inputs: Record<string, { default?: string }>
}

export function actionDefaults(actionYml = join(ROOT, 'action.yml')): Record<string, string> {
  const spec = parse(readFileSync(actionYml, 'utf8')) as ActionSpec
  return Object.fromEntries(Object.entries(spec.inputs).map(([name, input]) => [name, input.default ?? '']))
}

/** The runner's naming: upper case, spaces to underscores, hyphens kept. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replaceAll(' ', '_').toUpperCase()}`
}

export function inputEnv(withInputs: Record<string, string>, defaults = actionDefaults()): Record<string, string> {
  const merged = { ...defaults, ...withInputs }
  return Object.fromEntries(Object.entries(merged).map(([name, value]) => [inputEnvName(name), value]))
}

/** Parses the GITHUB_OUTPUT file format (`name<<delimiter` … `delimiter`). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match?.[1] || !match[2]) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i] ?? '')
    outputs[match[1]] = value.join('\n')
  }
  return outputs
}

export interface ActionRun {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

export interface RunOptions {
  inputs: Record<string, string>
  env?: Record<string, string>
  script?: string
  /** Whose defaults fill in the inputs; action.yml unless given. */
  actionYml?: string
  /** Called once the child has started, e.g. to send it a signal. */
  onStart?: (child: import('node:child_process').ChildProcess) => void
  /** Called for every chunk of stdout, e.g. to wait for a log line. */
  onStdout?: (chunk: string, child: import('node:child_process').ChildProcess) => void
  timeoutMs?: number
}

export async function runBundledAction(options: RunOptions): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_'))
  )
  const child = spawn(process.execPath, [options.script ?? join(ROOT, 'dist/index.js')], {
    cwd: ROOT,
    env: {
      ...inherited,
      ...inputEnv(options.inputs, actionDefaults(options.actionYml)),
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: dir,
      ...options.env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    options.onStdout?.(chunk, child)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  options.onStart?.(child)
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve =>
    child.on('close', (code, sig) => resolve([code, sig]))
  )
  clearTimeout(timer)
  try {
    return {
      exitCode,
      signal,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
