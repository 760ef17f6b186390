/**
 * `npm start`: runs the bundled action (dist/index.js) the way the runner does and prints its log,
 * outputs and job summary. Against $COCKROACH_URL when set (for example a local
 * `cockroach start-single-node --insecure`), otherwise against the emulator started on the spot
 * with a small `bank` database. Extra inputs: INPUT_* variables, e.g. INPUT_DATABASE=movr.
 */
import { startEmulator } from '../test/emulator/index.js'
import { runBundledAction } from '../test/support/run-action.js'

const userInputs = Object.fromEntries(
  Object.entries(process.env)
    .filter(([key]) => key.startsWith('INPUT_'))
    .map(([key, value]) => [key.slice('INPUT_'.length).toLowerCase(), value ?? ''])
)

async function main(): Promise<number> {
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

process.exitCode = await main()
