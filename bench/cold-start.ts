/**
 * Cold start: `node dist/index.js` with inputs that fail validation at once (action.yml's defaults,
 * neither `database` nor `tables`), timed to the first byte of output and to exit, next to bare
 * `node -e ''` on the same runtime, rounds interleaved. Also the bundle sizes, and two prototype
 * bundles of the same src/ built with esbuild: as is, and with @actions/http-client (which
 * @actions/core imports only for OIDC tokens, and which pulls in undici) replaced by a stub.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import {
  actionEnv,
  failedRun,
  kib,
  median,
  ms,
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

const TARGET_MS = 150

export interface Prototype {
  name: string
  script: string
  bytes: number
}

/**
 * Builds the prototype bundles into the scratch directory. esbuild is the bundler tsx runs on; if
 * it cannot be loaded the prototypes are left out and the tables say so.
 */
export async function buildPrototypes(scratch: string): Promise<Prototype[]> {
  let esbuild: typeof import('esbuild')
  try {
    esbuild = await import('esbuild')
  } catch {
    // Optional: without esbuild the section still measures the real bundle.
    return []
  }
  const dir = join(scratch, 'prototypes')
  const stub = join(dir, 'http-client-stub')
  mkdirSync(join(stub, 'lib'), { recursive: true })
  writeFileSync(join(stub, 'package.json'), '{ "name": "http-client-stub", "type": "module", "main": "index.js" }\n')
  writeFileSync(
    join(stub, 'index.js'),
    "export class HttpClient { constructor() { throw new Error('OIDC tokens are not available in this build') } }\n"
  )
  writeFileSync(join(stub, 'lib', 'auth.js'), 'export class BearerCredentialHandler {}\n')
  // pg loads optional modules with require(); an ESM bundle needs a require to hand them.
  const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  const variants: { name: string; file: string; alias: Record<string, string> }[] = [
    { name: 'esbuild bundle of src/ (prototype)', file: 'esbuild.mjs', alias: {} },
    { name: 'esbuild, @actions/http-client stubbed (prototype)', file: 'lean.mjs', alias: { '@actions/http-client': stub } }
  ]
  const built: Prototype[] = []
  for (const variant of variants) {
    const outfile = join(dir, variant.file)
    await esbuild.build({
      entryPoints: [join(ROOT, 'src', 'index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      alias: variant.alias,
      banner: { js: banner },
      logLevel: 'error'
    })
    built.push({ name: variant.name, script: outfile, bytes: statSync(outfile).size })
  }
  return built
}

function bundleSizes(): string[][] {
  const dist = join(ROOT, 'dist')
  const rows: string[][] = []
  let total = 0
  let totalGzip = 0
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        const bytes = readFileSync(path)
        const gzip = gzipSync(bytes, { level: 9 }).length
        total += bytes.length
        totalGzip += gzip
        if (entry.name === 'index.js') rows.push([`dist/${path.slice(dist.length + 1)}`, kib(bytes.length), kib(gzip)])
      }
    }
  }
  walk(dist)
  rows.push(['all of dist/', kib(total), kib(totalGzip)])
  return rows
}

interface Contender {
  name: string
  runtime: Runtime
  args: string[]
  /** A validation failure: exit 1 with an ::error:: line. */
  action: boolean
}

export async function measureColdStart(ctx: BenchContext, prototypes: Prototype[]): Promise<Section> {
  const runs = ctx.quick ? 7 : 21
  const contenders: Contender[] = ctx.runtimes.flatMap(runtime => [
    { name: "bare `node -e ''`", runtime, args: ['-e', ''], action: false },
    { name: 'the action (dist/index.js)', runtime, args: [ctx.bundle.script], action: true },
    ...prototypes.map(prototype => ({ name: prototype.name, runtime, args: [prototype.script], action: true }))
  ])
  const { env } = actionEnv(ctx.scratch, {}) // action.yml's defaults: neither database nor tables
  const results = new Map<Contender, TimedRun[]>(contenders.map(contender => [contender, []]))
  for (let round = 0; round < runs; round++) {
    for (const contender of rotated(contenders, round)) {
      const run = await timedRun(contender.runtime.path, contender.args, { env })
      if (contender.action && (run.code !== 1 || !run.stdout.includes('::error::'))) {
        throw failedRun(`${contender.name} on ${contender.runtime.name} should fail validation`, run)
      }
      if (!contender.action && run.code !== 0) throw failedRun(contender.name, run)
      results.get(contender)!.push(run)
    }
  }
  ctx.log(`cold start: ${runs} rounds of ${contenders.length}`)

  const rows: string[][] = []
  const verdicts: Verdict[] = []
  for (const runtime of ctx.runtimes) {
    const ofRuntime = contenders.filter(contender => contender.runtime === runtime)
    const bareExit = median(results.get(ofRuntime[0]!)!.map(run => run.exitMs))
    for (const contender of ofRuntime) {
      const timings = results.get(contender)!
      const exit = median(timings.map(run => run.exitMs))
      const firstByte = contender.action ? ms(median(timings.map(run => run.firstByteMs))) : '–'
      const overBare = contender.action ? `+${ms(exit - bareExit)}` : ''
      rows.push([runtime.name, contender.name, firstByte, ms(exit), overBare])
      if (contender.args[0] === ctx.bundle.script) {
        verdicts.push({
          target: `cold start ≤ ${TARGET_MS} ms median (${runtime.name}${runtime === ctx.runner ? ', the runtime action.yml asks for' : ''})`,
          result: `${ms(exit)} ms to exit, first byte at ${firstByte} ms; bare node ${ms(bareExit)} ms`,
          met: exit <= TARGET_MS
        })
      }
    }
  }
  const sizes = bundleSizes()
  for (const prototype of prototypes) sizes.push([prototype.name, kib(prototype.bytes), '–'])
  const markdown = [
    table(['runtime', 'contender', 'first byte ms (median)', 'exit ms (median)', 'exit − bare node ms'], rows),
    '',
    `Medians of ${runs} runs each; every round runs all ${contenders.length} contenders, each round starting with a different one. ` +
      'The action gets every input at its action.yml default and neither `database` nor `tables`, so it fails with an `::error::` before connecting. ' +
      (prototypes.length === 0 ? 'esbuild could not be loaded, so there are no prototype rows.' : ''),
    '',
    table(['bundle', 'size', 'gzip -9'], sizes)
  ].join('\n')
  return { title: 'Cold start', markdown, verdicts }
}
