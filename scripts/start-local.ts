/**
 * `npm start`: runs the bundled action (dist/index.js) the way the runner does and prints its log,
 * outputs and job summary. Against $COCKROACH_URL when set (for example a local
 * `cockroach start-single-node --insecure`), otherwise against the emulator started on the spot
 * with a small `bank` database.
 *
 * Inputs: `npm start -- --input wait-timeout=5 --input database=movr`, or INPUT_* variables with
 * underscores for hyphens (INPUT_WAIT_TIMEOUT=5). The runner's own spelling, INPUT_WAIT-TIMEOUT,
 * never arrives: npm runs scripts through sh, which drops variables with a hyphen in the name.
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator } from '../test/emulator/index.js'
import { actionDefaults, runBundledAction } from '../test/support/run-action.js'

/** The inputs given on the command line and in INPUT_* variables (the command line wins), by action.yml's names. */
export function localInputs(argv: string[], env: NodeJS.ProcessEnv, declared: string[]): Record<string, string> {
  const byEnvName = new Map(declared.flatMap(name => [name, name.replaceAll('-', '_')].map(spelling => [spelling.toUpperCase(), name])))
  const inputs: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('INPUT_') || value === undefined) continue
    const name = byEnvName.get(key.slice('INPUT_'.length).toUpperCase())
    if (name === undefined) throw new Error(`${key} is not an input of action.yml (inputs: ${declared.join(', ')})`)
    inputs[name] = value
  }
  const { values } = parseArgs({ args: argv, options: { input: { type: 'string', multiple: true } } })
  for (const pair of values.input ?? []) {
    const equals = pair.indexOf('=')
    const name = equals < 0 ? pair : pair.slice(0, equals)
    if (equals < 0 || !declared.includes(name)) {
      throw new Error(`--input ${pair}: expected name=value with a name from action.yml (${declared.join(', ')})`)
    }
    inputs[name] = pair.slice(equals + 1)
  }
  return inputs
}

async function main(): Promise<number> {
  let userInputs: Record<string, string>
  try {
    userInputs = localInputs(process.argv.slice(2), process.env, Object.keys(actionDefaults()))
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    return 2
  }
  const url = process.env['COCKROACH_URL']
  const emulator = url ? undefined : await startEmulator({ profile: 'v25.2', jobDurationMs: 1500 })
  if (emulator) {
    emulator.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
    console.log(`No COCKROACH_URL: using the CockroachDB emulator on port ${emulator.port} (database bank).\n`)
  }
  try {
    const result = await runBundledAction({
      inputs: { database: 'bank', 'connection-string': url ?? emulator?.connectionString() ?? '', ...userInputs },
      env: { GITHUB_ACTIONS: '' },
      onStdout: chunk => process.stdout.write(chunk)
    })
    process.stderr.write(result.stderr)
    console.log('\nOutputs:')
    for (const [name, value] of Object.entries(result.outputs)) console.log(`  ${name}: ${value}`)
    console.log(`\nJob summary (HTML written to GITHUB_STEP_SUMMARY):\n${result.summary}`)
    console.log(`Exit code: ${result.exitCode}`)
    return result.exitCode ?? 1
  } finally {
    await emulator?.close()
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  process.exitCode = await main()
}
