/**
 * `npm start`: runs the bundled action (dist/index.js) the way the runner does and prints its log
 * (readable: see readable-log.ts), outputs and job summary. Against $COCKROACH_URL when set (for
 * example a local `cockroach start-single-node --insecure`), otherwise against the emulator started
 * on the spot with two small databases, `bank` and `movr`.
 * `npm run start:restore` (this script with --restore) does the same with the restore companion
 * (dist/restore/index.js): on the emulator, into an empty cluster, typically from the folder that
 * `npm start -- --input download-path=…` wrote.
 *
 * Inputs: `npm start -- --input wait-timeout=5 --input database=movr`, or INPUT_* variables with
 * underscores for hyphens (INPUT_WAIT_TIMEOUT=5). The runner's own spelling, INPUT_WAIT-TIMEOUT,
 * never arrives: npm runs scripts through sh, which drops variables with a hyphen in the name.
 * Without `database` or `tables`, the database is `bank`.
 */
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmulator, type Emulator } from '../test/emulator/index.js'
import { ROOT, actionDefaults, runBundledAction } from '../test/support/run-action.js'
import { ReadableLog } from './readable-log.js'

const ACTIONS = {
  backup: { script: join(ROOT, 'dist/index.js'), actionYml: join(ROOT, 'action.yml') },
  restore: { script: join(ROOT, 'dist/restore/index.js'), actionYml: join(ROOT, 'restore/action.yml') }
} as const

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

/** The databases of the emulator `npm start` backs up from (`npm run start:restore` starts with none). */
function seed(emulator: Emulator): string {
  emulator.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
  emulator.createDatabase('movr', {
    users: { rows: 50, bytes: 6_000 },
    vehicles: { rows: 15, bytes: 3_000 },
    rides: { rows: 500, bytes: 90_000 },
    promo_codes: { rows: 1000, bytes: 120_000 }
  })
  return 'databases bank and movr'
}

/** `database: bank` unless the inputs name a database or tables: `--input tables=…` alone must work. */
export function withDefaultTarget(inputs: Record<string, string>): Record<string, string> {
  return inputs['database'] || inputs['tables'] ? inputs : { database: 'bank', ...inputs }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const which = args[0] === '--restore' ? 'restore' : 'backup'
  const action = ACTIONS[which]
  let userInputs: Record<string, string>
  try {
    userInputs = localInputs(which === 'restore' ? args.slice(1) : args, process.env, Object.keys(actionDefaults(action.actionYml)))
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error))
    return 2
  }
  const url = process.env['COCKROACH_URL']
  const emulator = url ? undefined : await startEmulator({ profile: 'v25.2', jobDurationMs: 1500 })
  if (emulator) {
    const holding = which === 'backup' ? seed(emulator) : 'an empty cluster'
    console.log(`No COCKROACH_URL: using the CockroachDB emulator on port ${emulator.port} (${holding}).\n`)
  }
  const log = new ReadableLog()
  try {
    const result = await runBundledAction({
      inputs: withDefaultTarget({ 'connection-string': url ?? emulator?.connectionString() ?? '', ...userInputs }),
      script: action.script,
      actionYml: action.actionYml,
      env: { GITHUB_ACTIONS: '' },
      onStdout: chunk => process.stdout.write(log.write(chunk))
    })
    process.stdout.write(log.end())
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
