/**
 * Overhead of a whole backup against the emulator, the job completing at once: the bundled action
 * as the runner starts it, against a bare psql script sending the same statements, and against that
 * script started through @actions/exec (bench/psql-via-exec.mjs). Rounds interleave the contenders,
 * each run into a fresh collection; every run's statements are checked and timed from the
 * emulator's log.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEmulator, type Emulator, type StatementLogEntry } from '../test/emulator/index.js'
import type { Prototype } from './cold-start.js'
import {
  actionEnv,
  failedRun,
  median,
  ms,
  PSQL,
  quantile,
  ratio,
  ROOT,
  rotated,
  table,
  timedRun,
  type BenchContext,
  type Runtime,
  type Section,
  type TimedRun,
  type Verdict
} from './lib.js'

export const PROFILE = 'v25.2'
const TARGET_RATIO = 1.5

/**
 * The statements the action sends for a full backup (copied from emu.statements after a run), as
 * one psql session. Differences, kept as small as psql 15 allows: psql's BACKUP waits for the job
 * inside the statement (without `WITH detached`, the cheapest way to learn that the job ended, as
 * psql has no loop to poll with), then reads the job once with the id from BACKUP's result; the job
 * id is a literal where the action sends a $1 parameter.
 */
const PSQL_SCRIPT = `SELECT current_user, version();
SHOW BACKUPS IN :'collection';
BACKUP DATABASE bank INTO :'collection' AS OF SYSTEM TIME '-10s' \\gset
SELECT status, fraction_completed, error, description FROM crdb_internal.jobs WHERE job_id = :job_id;
SHOW BACKUPS IN :'collection' \\gset
SHOW BACKUP :'path' IN :'collection' WITH check_files;
`

/** What each run must have sent, in order (first words are enough to tell the statements apart). */
const ACTION_SHAPE = ['SELECT current_user', 'SHOW BACKUPS', 'BACKUP', 'SELECT status', 'SHOW BACKUPS', 'SHOW BACKUP ']
const shapeOf = (statements: StatementLogEntry[]): string[] =>
  statements
    .map(statement => ACTION_SHAPE.find(prefix => statement.sql.startsWith(prefix)) ?? statement.sql)
    // The action polls until the job has ended: one or more polls count as one step.
    .filter((step, index, steps) => !(step === 'SELECT status' && steps[index - 1] === 'SELECT status'))

type Kind = 'action' | 'psql' | 'exec+psql' | 'prototype'

interface Contender {
  kind: Kind
  name: string
  runtime: Runtime | undefined
  run: (collection: string) => Promise<TimedRun>
  check: (run: TimedRun, collection: string) => void
}

interface Sample {
  run: TimedRun
  statements: StatementLogEntry[]
}

function actionContender(ctx: BenchContext, emu: Emulator, kind: Kind, name: string, runtime: Runtime, script: string): Contender {
  const outputFiles = new Map<string, string>()
  return {
    kind,
    name,
    runtime,
    run: collection => {
      const { env, outputFile } = actionEnv(ctx.scratch, { database: 'bank', collection, 'connection-string': emu.connectionString() })
      outputFiles.set(collection, outputFile)
      return timedRun(runtime.path, [script], { env })
    },
    check: (run, collection) => {
      const outputs = readFileSync(outputFiles.get(collection)!, 'utf8')
      if (run.code !== 0 || !outputs.includes('backup-path<<')) throw failedRun(`${name} on ${runtime.name}`, run)
    }
  }
}

export async function measureOverhead(ctx: BenchContext, prototypes: Prototype[]): Promise<Section> {
  const rounds = ctx.quick ? 5 : 21
  const emu = await startEmulator({ profile: PROFILE, jobDurationMs: 0 })
  try {
    return await measureWith(ctx, emu, prototypes, rounds)
  } finally {
    await emu.close()
  }
}

async function measureWith(ctx: BenchContext, emu: Emulator, prototypes: Prototype[], rounds: number): Promise<Section> {
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
  const url = emu.connectionString()
  const script = join(ctx.scratch, 'backup.sql')
  writeFileSync(script, PSQL_SCRIPT)
  const psqlCheck = (what: string) => (run: TimedRun) => {
    if (run.code !== 0) throw failedRun(what, run)
  }

  const lean = prototypes.find(prototype => prototype.name.includes('stubbed'))
  const contenders: Contender[] = [
    {
      kind: 'psql',
      name: 'bare psql script',
      runtime: undefined,
      run: collection => timedRun(PSQL, [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `collection=${collection}`, '-f', script]),
      check: psqlCheck('psql')
    },
    ...ctx.runtimes.flatMap(runtime => [
      actionContender(ctx, emu, 'action', 'the action (dist/index.js)', runtime, ctx.bundle.script),
      {
        kind: 'exec+psql' as const,
        name: 'psql script via @actions/exec',
        runtime,
        run: (collection: string) => timedRun(runtime.path, [join(ROOT, 'bench', 'psql-via-exec.mjs'), PSQL, script, url, collection]),
        check: psqlCheck(`exec+psql on ${runtime.name}`)
      }
    ]),
    ...(lean ? [actionContender(ctx, emu, 'prototype', lean.name, ctx.runner, lean.script)] : [])
  ]

  const samples = new Map<Contender, Sample[]>(contenders.map(contender => [contender, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [k, contender] of rotated(contenders, round).entries()) {
      const collection = `userfile://defaultdb.public.userfiles_root/bench-${round}-${k}`
      const before = emu.statements.length
      const run = await contender.run(collection)
      contender.check(run, collection)
      const statements = emu.statements.slice(before)
      const shape = shapeOf(statements)
      if (shape.join('|') !== ACTION_SHAPE.join('|')) {
        throw new Error(`${contender.name} sent ${JSON.stringify(shape)}, expected ${JSON.stringify(ACTION_SHAPE)}`)
      }
      samples.get(contender)!.push({ run, statements })
    }
  }
  ctx.log(`overhead: ${rounds} rounds of ${contenders.length}`)

  const exits = (contender: Contender): number[] => samples.get(contender)!.map(sample => sample.run.exitMs)
  const rows = contenders.map(contender => {
    const all = samples.get(contender)!
    const part = (f: (sample: Sample) => number): string => ms(median(all.map(f)))
    const first = (sample: Sample): number => sample.statements[0]!.at.getTime()
    const last = (sample: Sample): number => sample.statements.at(-1)!.at.getTime()
    const times = exits(contender)
    return [
      contender.name,
      contender.runtime?.name ?? 'C',
      ms(median(times)),
      `${ms(quantile(times, 0.25))}–${ms(quantile(times, 0.75))}`,
      part(sample => first(sample) - sample.run.startedAt),
      part(sample => last(sample) - first(sample)),
      part(sample => sample.run.startedAt + sample.run.exitMs - last(sample)),
      String(median(all.map(sample => sample.statements.length)))
    ]
  })

  /** Median of the per-round ratios (each round's runs are seconds apart) and the ratio of the medians. */
  const pair = (a: Contender, b: Contender): [string, string, number] => {
    const ea = exits(a)
    const eb = exits(b)
    const perRound = median(ea.map((value, i) => value / eb[i]!))
    const ofMedians = median(ea) / median(eb)
    return [ratio(perRound), ratio(ofMedians), perRound]
  }
  const psql = contenders[0]!
  const pairRows: string[][] = []
  const verdicts: Verdict[] = []
  for (const runtime of ctx.runtimes) {
    const action = contenders.find(c => c.kind === 'action' && c.runtime === runtime)!
    const exec = contenders.find(c => c.kind === 'exec+psql' && c.runtime === runtime)!
    const [perRound, ofMedians, value] = pair(action, psql)
    pairRows.push([`action / bare psql (${runtime.name})`, perRound, ofMedians])
    pairRows.push([`action / psql via @actions/exec (${runtime.name})`, ...pair(action, exec).slice(0, 2)] as string[])
    pairRows.push([`psql via @actions/exec / bare psql (${runtime.name})`, ...pair(exec, psql).slice(0, 2)] as string[])
    verdicts.push({
      target: `whole backup ≤ ${TARGET_RATIO}× a bare psql script (${runtime.name}${runtime === ctx.runner ? ', the runtime action.yml asks for' : ''})`,
      result: `${ms(median(exits(action)))} ms against ${ms(median(exits(psql)))} ms: ${perRound}`,
      met: value <= TARGET_RATIO
    })
  }
  const prototype = contenders.find(c => c.kind === 'prototype')
  if (prototype) pairRows.push([`${prototype.name} / bare psql (${ctx.runner.name})`, ...pair(prototype, psql).slice(0, 2)] as string[])

  const markdown = [
    table(
      [
        'contender',
        'runtime',
        'median ms',
        'interquartile ms',
        'start → first statement ms',
        'first → last statement ms',
        'last statement → exit ms',
        'statements'
      ],
      rows
    ),
    '',
    table(['pair', 'median of per-round ratios', 'ratio of medians'], pairRows),
    '',
    `${rounds} rounds; each round runs every contender once, starting with a different one each round, each into a fresh collection ` +
      `(\`userfile://defaultdb.public.userfiles_root/bench-<round>-<k>\`). Emulator profile ${PROFILE}, job duration 0 (the job ends on the emulator's next 10 ms tick), ` +
      "database `bank` with one table of 1000 rows. The phases come from the arrival times in the emulator's statement log (millisecond resolution). " +
      'Every run is checked: exit 0, the action wrote a `backup-path` output, and the emulator received the expected statement sequence ' +
      '(session info, SHOW BACKUPS, BACKUP, job poll(s), SHOW BACKUPS, SHOW BACKUP … WITH check_files).'
  ].join('\n')
  return { title: 'Overhead of a whole backup', markdown, verdicts }
}
