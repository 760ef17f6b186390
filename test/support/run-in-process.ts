/**
 * Runs `run()` in this process with real INPUT_* variables and GITHUB_OUTPUT/GITHUB_STEP_SUMMARY
 * files, capturing what @actions/core writes to stdout. Nothing is mocked.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../../src/backup/run.js'
import { runRestore } from '../../src/restore/run.js'
import { actionDefaults, inputEnv, parseOutputFile, ROOT, type ActionRun } from './run-action.js'

// @actions/core remembers the summary file's path after its first write, so every in-process run
// uses the same files, emptied before each run.
const dir = mkdtempSync(join(tmpdir(), 'run-in-process-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

export async function runInProcess(inputs: Record<string, string>, entry: () => Promise<void> = run): Promise<ActionRun> {
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  // Each action gets its own action.yml's defaults, as on the runner (both have an as-of-system-time).
  const defaults = actionDefaults(entry === runRestore ? join(ROOT, 'restore/action.yml') : undefined)
  const env = { ...inputEnv(inputs, defaults), GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile }
  const saved = Object.fromEntries(Object.keys(env).map(key => [key, process.env[key]]))
  Object.assign(process.env, env)
  let stdout = ''
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
  const exitCodeBefore = process.exitCode
  try {
    await entry()
    const exitCode = process.exitCode === undefined ? 0 : Number(process.exitCode)
    return {
      exitCode,
      signal: null,
      stdout,
      stderr: '',
      outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8')
    }
  } finally {
    process.stdout.write = write
    process.exitCode = exitCodeBefore
    for (const [key, value] of Object.entries(saved)) {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- restoring an unset variable
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

/** The `::error::` lines of a run, decoded from the runner's command escaping. */
export function errorsOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith('::error::'))
    .map(line => line.slice('::error::'.length).replaceAll('%0A', '\n').replaceAll('%0D', '\r').replaceAll('%25', '%'))
}

/** The values a run asked the runner to mask, decoded from the command escaping. */
export function maskedValues(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith('::add-mask::'))
    .map(line => line.slice('::add-mask::'.length).replaceAll('%0A', '\n').replaceAll('%0D', '\r').replaceAll('%25', '%'))
}
