/**
 * Download benchmark (issue: download the new backup to the runner). Throughput and peak RSS of
 * the action's downloadBackup for backups of several sizes held in CockroachDB's userfile tables in
 * a real PostgreSQL, side by side with psql `\copy` of the same bytes in the same run.
 *
 *   npm run bench:download                       32 MiB, 512 MiB ×5, 1 GiB ×3, 1000 small files ×5; N = 1, 2, 4, 8
 *   npm run bench:download -- --sizes=256,1024 --connections=1,4 --runs=3
 *   TMPDIR=/dev/shm npm run bench:download …      the data directory and every download on tmpfs
 *
 * Each measured download runs in its own process (bench/download-child.ts, bundled with ncc and
 * run with plain node, as the action runs), so its peak RSS is the download's alone. psql runs one
 * `\copy (SELECT payload … ORDER BY byte_offset) TO … WITH (FORMAT binary)` per file (the
 * reference), interleaved round by round with the action at each download-connections N, and the
 * loopback limit: one `\copy (SELECT payload … ) TO '/dev/null' WITH (FORMAT binary)` of the whole
 * folder. Prints a markdown table on stdout (min/median/max, the ratio to psql per round) and every
 * run on stderr.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { manifestChecksum } from '../src/storage/backup-folder.js'
import { onProcessExit, startPostgres, type PostgresServer } from '../test/support/postgres.js'
import { CHUNK, createUserfileTables, pseudoRandomBytes, storeFile } from '../test/support/userfile-tables.js'
import type { ChildReport, Mode } from './download-child.js'

const run = promisify(execFile)
const MiB = 1024 * 1024
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bench'
const PAYLOAD_TABLE = 'userfiles_root_upload_payload'
/** CockroachDB writes SSTs of up to about 64 MiB (kv.bulk_sst.target_size). */
const SST_BYTES = 64 * MiB
const MANIFEST_BYTES = 200_000
/** Distinct random 4 MiB chunks the server copies from, so the payload does not compress in TOAST. */
const SEEDS = 8
const TIME = '/usr/bin/time'

interface Options {
  sizesMiB: number[]
  /** A backup of this many 20 KiB files as well (0: none). */
  smallFiles: number
  runs: number | undefined
  /** download-connections values to measure the action at. */
  connections: number[]
  /** With more than 0, the server waits this long per 4 MiB of payload before each row it returns (withChunkLatency). */
  chunkLatencyMs: number
}

function parseArgs(argv: string[]): Options {
  const options: Options = { sizesMiB: [32, 512, 1024], smallFiles: 1000, runs: undefined, connections: [1, 2, 4, 8], chunkLatencyMs: 0 }
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2)
    if (key === '--sizes') options.sizesMiB = value.split(',').map(Number)
    else if (key === '--runs') options.runs = Number(value)
    else if (key === '--small-files') options.smallFiles = Number(value)
    else if (key === '--connections') options.connections = value.split(',').map(Number)
    else if (key === '--chunk-latency-ms') options.chunkLatencyMs = Number(value)
    else
      throw new Error(
        `unknown argument ${arg} (use --sizes=32,512,1024 in MiB, --small-files=1000, --runs=N, --connections=1,2,4,8, --chunk-latency-ms=0)`
      )
  }
  if (options.sizesMiB.some(size => !Number.isInteger(size) || size < 1)) throw new Error('--sizes takes whole MiB, comma-separated')
  if (options.runs !== undefined && !(Number.isInteger(options.runs) && options.runs >= 1))
    throw new Error('--runs takes a positive integer')
  if (!(Number.isFinite(options.chunkLatencyMs) && options.chunkLatencyMs >= 0))
    throw new Error('--chunk-latency-ms takes milliseconds, 0 or more')
  return options
}

const runsFor = (bytes: number, options: Options): number => options.runs ?? (bytes >= 1024 * MiB ? 3 : 5)

/** One backup folder to download: its path in the collection, its total size, and how to store it. */
interface Dataset {
  label: string
  path: string
  bytes: number
  store: (db: pg.Client) => Promise<StoredBackupFile[]>
}

const SMALL_FILE_BYTES = 20 * 1024

function datasets(options: Options): Dataset[] {
  const big = options.sizesMiB.map(sizeMiB => ({
    label: label(sizeMiB),
    path: backupPath(sizeMiB),
    bytes: sizeMiB * MiB,
    store: (db: pg.Client) => storeBackup(db, sizeMiB)
  }))
  if (options.smallFiles === 0) return big
  const count = options.smallFiles
  const small: Dataset = {
    label: `${count} × 20 KiB`,
    path: `/bench-${count}-small`,
    bytes: count * SMALL_FILE_BYTES,
    store: async db => {
      const files: StoredBackupFile[] = []
      for (let n = 0; n < count; n++) {
        const name = n === 0 ? 'BACKUP_MANIFEST' : `data/${String(n).padStart(5, '0')}.sst`
        files.push({
          name,
          fileId: await storeFile(db, `/bench/bench-${count}-small/${name}`, pseudoRandomBytes(SMALL_FILE_BYTES, n)),
          size: SMALL_FILE_BYTES
        })
      }
      return files
    }
  }
  return [...big, small]
}
const label = (sizeMiB: number): string => (sizeMiB % 1024 === 0 ? `${sizeMiB / 1024} GiB` : `${sizeMiB} MiB`)
const backupPath = (sizeMiB: number): string => `/bench-${sizeMiB}MiB`

interface StoredBackupFile {
  name: string
  fileId: string
  size: number
}

/**
 * A backup folder of exactly `sizeMiB`: BACKUP_MANIFEST with its checksum, then SSTs of up to
 * 64 MiB making up the rest. The SST chunks are generated by the server (INSERT … SELECT), each a
 * seed chunk with its own number written over the first 8 bytes.
 */
/**
 * Puts a view in the payload table's place that waits before each row it returns, `ms` per 4 MiB
 * of payload (`pg_sleep` in a volatile function of the selected payload): one query then reads at
 * most 4 MiB per `ms`, as a real CockroachDB answers each chunk after KV reads across ranges where
 * this PostgreSQL answers at once. Every reader, the action, psql and the loopback limit alike,
 * reads through it; it uses no CPU while it waits.
 */
async function withChunkLatency(db: pg.Client, ms: number): Promise<{ undo: () => Promise<void> }> {
  await db.query(`ALTER TABLE ${PAYLOAD_TABLE} RENAME TO ${PAYLOAD_TABLE}_stored`)
  await db.query(
    `CREATE FUNCTION bench_after_latency(payload bytea) RETURNS bytea VOLATILE LANGUAGE plpgsql AS $$
       BEGIN PERFORM pg_sleep(${ms / 1000} * octet_length(payload) / ${CHUNK}.0); RETURN payload; END $$`
  )
  await db.query(
    `CREATE VIEW ${PAYLOAD_TABLE} AS SELECT file_id, byte_offset, bench_after_latency(payload) AS payload FROM ${PAYLOAD_TABLE}_stored`
  )
  return {
    undo: async () => {
      await db.query(`DROP VIEW ${PAYLOAD_TABLE}`)
      await db.query('DROP FUNCTION bench_after_latency(bytea)')
      await db.query(`ALTER TABLE ${PAYLOAD_TABLE}_stored RENAME TO ${PAYLOAD_TABLE}`)
    }
  }
}

async function storeBackup(db: pg.Client, sizeMiB: number): Promise<StoredBackupFile[]> {
  const folder = `/bench${backupPath(sizeMiB)}`
  const manifest = pseudoRandomBytes(MANIFEST_BYTES, sizeMiB)
  const checksum = manifestChecksum(manifest)
  const files: StoredBackupFile[] = [
    { name: 'BACKUP_MANIFEST', fileId: await storeFile(db, `${folder}/BACKUP_MANIFEST`, manifest), size: manifest.length },
    { name: 'BACKUP_MANIFEST-CHECKSUM', fileId: await storeFile(db, `${folder}/BACKUP_MANIFEST-CHECKSUM`, checksum), size: checksum.length }
  ]
  let remaining = sizeMiB * MiB - manifest.length - checksum.length
  for (let n = 1; remaining > 0; n++) {
    const size = Math.min(SST_BYTES, remaining)
    const fileId = randomUUID()
    const name = `data/${String(n).padStart(4, '0')}.sst`
    await db.query(`INSERT INTO userfiles_root_upload_files (filename, file_id, file_size, username) VALUES ($1, $2, $3, 'root')`, [
      `${folder}/${name}`,
      fileId,
      size
    ])
    await db.query(
      `INSERT INTO ${PAYLOAD_TABLE} (file_id, byte_offset, payload)
       SELECT $1::uuid, c.n * ${CHUNK}, overlay(substring(s.payload FROM 1 FOR least(${CHUNK}, $2::bigint - c.n * ${CHUNK})::int) PLACING int8send($3::bigint * 1000000 + c.n) FROM 1)
         FROM generate_series(0, ($2::bigint - 1) / ${CHUNK}) AS c(n) JOIN bench_seed s ON s.i = c.n % ${SEEDS}`,
      [fileId, size, sizeMiB * 1000 + n]
    )
    files.push({ name, fileId, size })
    remaining -= size
  }
  return files
}

interface Measurement {
  seconds: number
  /** Peak RSS in KiB as the process reported it (Node) or /usr/bin/time saw it (psql). */
  maxRssKiB: number
  /** /usr/bin/time's view of the same process, as a cross-check. */
  timeMaxRssKiB: number
}

/** Runs a command under /usr/bin/time; returns its stdout, wall time and peak RSS. */
async function measured(
  command: string,
  args: string[],
  scratch: string,
  env: NodeJS.ProcessEnv = {}
): Promise<{ stdout: string; seconds: number; timeMaxRssKiB: number }> {
  const timeFile = join(scratch, `time-${randomUUID()}`)
  const started = performance.now()
  const child = spawn(TIME, ['-f', '%M', '-o', timeFile, command, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()))
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  const seconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`)
  const timeMaxRssKiB = Number((await readFile(timeFile, 'utf8')).trim().split('\n').at(-1))
  await rm(timeFile)
  return { stdout, seconds, timeMaxRssKiB }
}

async function runChild(
  bundle: string,
  args: string[],
  scratch: string,
  env: NodeJS.ProcessEnv = {}
): Promise<ChildReport & { timeMaxRssKiB: number }> {
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of every measured download, for finding where its time goes.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const { stdout, timeMaxRssKiB } = await measured(process.execPath, [...profile, bundle, ...args], scratch, env)
  return { ...(JSON.parse(stdout) as ChildReport), timeMaxRssKiB }
}

/** With `hash`, the child also returns a digest of what it wrote (after its clock stops). */
async function childDownload(
  bundle: string,
  mode: Mode,
  url: string,
  dataset: Dataset,
  scratch: string,
  connections: number,
  hash = false
): Promise<Measurement & { sha256?: string }> {
  const directory = join(scratch, mode)
  try {
    const report = await runChild(
      bundle,
      [mode, url, COLLECTION, dataset.path, directory, String(connections)],
      scratch,
      hash ? { BENCH_HASH: '1' } : {}
    )
    if (report.bytes !== dataset.bytes) throw new Error(`${mode} downloaded ${report.bytes} bytes, not ${dataset.bytes}`)
    return {
      seconds: report.seconds,
      maxRssKiB: report.maxRssKiB,
      timeMaxRssKiB: report.timeMaxRssKiB,
      ...(report.sha256 ? { sha256: report.sha256 } : {})
    }
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

type CopyFormat = 'binary' | 'text'

/** Binary COPY adds a 19-byte header, a 2-byte trailer and 6 bytes per row; text writes `\\x` + hex + newline. */
function copyOutputSize(file: StoredBackupFile, format: CopyFormat): number {
  const rows = Math.ceil(file.size / CHUNK)
  return format === 'binary' ? 21 + 6 * rows + file.size : 4 * rows + 2 * file.size
}

async function psqlCopy(url: string, files: StoredBackupFile[], format: CopyFormat, scratch: string): Promise<Measurement> {
  const directory = join(scratch, `psql-${format}`)
  const script = join(scratch, `copy-${format}.sql`)
  try {
    await mkdir(join(directory, 'data'), { recursive: true })
    const lines = files.map(
      file =>
        `\\copy (SELECT payload FROM ${PAYLOAD_TABLE} WHERE file_id = '${file.fileId}' ORDER BY byte_offset) TO '${join(directory, file.name)}' WITH (FORMAT ${format})`
    )
    await writeFile(script, `${lines.join('\n')}\n`)
    const { seconds, timeMaxRssKiB } = await measured('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script, url], scratch)
    for (const file of files) {
      const { size } = await stat(join(directory, file.name))
      if (size !== copyOutputSize(file, format))
        throw new Error(`psql wrote ${size} bytes for ${file.name}, expected ${copyOutputSize(file, format)}`)
    }
    return { seconds, maxRssKiB: timeMaxRssKiB, timeMaxRssKiB }
  } finally {
    await rm(directory, { recursive: true, force: true })
    await rm(script, { force: true })
  }
}

/** The loopback limit: the folder's payload in one binary COPY, written nowhere. */
async function loopback(url: string, files: StoredBackupFile[], scratch: string): Promise<Measurement> {
  const script = join(scratch, 'loopback.sql')
  const ids = files.map(file => `'${file.fileId}'`).join(',')
  try {
    await writeFile(
      script,
      `\\copy (SELECT payload FROM ${PAYLOAD_TABLE} WHERE file_id IN (${ids}) ORDER BY file_id, byte_offset) TO '/dev/null' WITH (FORMAT binary)\n`
    )
    const { seconds, timeMaxRssKiB } = await measured('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script, url], scratch)
    return { seconds, maxRssKiB: timeMaxRssKiB, timeMaxRssKiB }
  } finally {
    await rm(script, { force: true })
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** `action N=<connections>`, psql's per-file binary \copy, and the loopback limit. */
type Contender = string
const PSQL = 'psql binary \\copy per file'
const LOOPBACK = 'loopback limit (one COPY to /dev/null)'
const actionAt = (connections: number): Contender => `action, download-connections ${connections}`

interface SizeResult {
  dataset: Dataset
  runs: number
  /** Every contender's measurements, in the order of the first round. */
  measured: Map<Contender, Measurement[]>
}

async function machine(server: PostgresServer): Promise<string> {
  const { rows } = await server.query('SHOW server_version')
  const psql = (await run('psql', ['--version'])).stdout.trim()
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const memory = Math.round(os.totalmem() / 1024 ** 3)
  return `${os.availableParallelism()} CPUs (${cpu}), ${memory} GiB RAM, ${os.type()} ${os.release()}; Node ${process.version}; PostgreSQL ${String(rows[0]?.server_version)}; ${psql}`
}

const peakKiB = (list: Measurement[]): number => Math.max(...list.map(m => m.maxRssKiB))
const mib = (kib: number): string => (kib / 1024).toFixed(1)
const s = (value: number): string => value.toFixed(value < 1 ? 3 : 2)
const spread = (values: number[], format: (value: number) => string): string => {
  const sorted = [...values].sort((x, y) => x - y)
  return `${format(sorted[0]!)} / ${format(median(sorted))} / ${format(sorted.at(-1)!)}`
}

function tables(results: SizeResult[], nodeBaselineKiB: number): string {
  const rows = results.flatMap(({ dataset, runs, measured }) => {
    const sizeMiB = dataset.bytes / MiB
    const psql = measured.get(PSQL) ?? []
    return [...measured].map(([contender, list]) => {
      const seconds = list.map(x => x.seconds)
      // Each round measured every contender back to back, so the ratio is taken per round.
      const ratios = list.map((m, i) => psql[i]!.seconds / m.seconds)
      const rss = contender.startsWith('action') ? `${mib(peakKiB(list))} (+${mib(peakKiB(list) - nodeBaselineKiB)})` : mib(peakKiB(list))
      return `| ${dataset.label} | ${contender} | ${runs} | ${spread(seconds, s)} | ${(sizeMiB / median(seconds)).toFixed(0)} | ${spread(ratios, r => r.toFixed(2))} | ${rss} |`
    })
  })
  return [
    "| backup | contender | rounds | s (min / median / max) | MiB/s (median) | throughput ÷ psql's, per round (min / median / max; target ≥ 1.0) | peak RSS MiB (action: + above the idle bundle; target ≤ +64) |",
    '|---|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}

/** Largest gap between the child's own maxRSS and /usr/bin/time's, over every Node run. */
function rssCrossCheck(results: SizeResult[]): string {
  const runs = results.flatMap(({ measured }) => [...measured].filter(([name]) => name.startsWith('action')).flatMap(([, list]) => list))
  const gap = Math.max(...runs.map(m => Math.abs(m.maxRssKiB - m.timeMaxRssKiB)))
  return `maxRSS reported by the child vs /usr/bin/time for the same process: largest difference ${mib(gap)} MiB over ${runs.length} runs`
}

/** The digest download-child computes (name, NUL, bytes; files in name order), from the stored rows. */
async function storedDigest(db: pg.Client, files: StoredBackupFile[]): Promise<string> {
  const hash = createHash('sha256')
  for (const file of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    hash.update(`${file.name}\0`)
    const { rows } = await db.query<{ payload: string }>(
      `SELECT encode(payload, 'base64') AS payload FROM ${PAYLOAD_TABLE} WHERE file_id = $1 ORDER BY byte_offset`,
      [file.fileId]
    )
    for (const row of rows) hash.update(Buffer.from(row.payload, 'base64'))
  }
  return hash.digest('hex')
}

async function bundleChild(scratch: string): Promise<string> {
  const out = join(scratch, 'child')
  // --transpile-only: the project's type check is `npm run typecheck`; a half-edited test elsewhere must not stop the bench.
  await run(join(ROOT, 'node_modules/.bin/ncc'), ['build', join(ROOT, 'bench/download-child.ts'), '-o', out, '-q', '-t'], { cwd: ROOT })
  return join(out, 'index.js')
}

function log(message: string): void {
  process.stderr.write(`${message}\n`)
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  await stat(TIME).catch(() => {
    throw new Error(`${TIME} is needed to measure psql's peak RSS (apt-get install -y time)`)
  })
  const scratch = mkdtempSync(join(os.tmpdir(), 'bench-download-'))
  const removeScratch = onProcessExit(() => rmSync(scratch, { recursive: true, force: true }))
  let server: PostgresServer | undefined
  let db: pg.Client | undefined
  try {
    const bundle = await bundleChild(scratch)
    server = await startPostgres()
    await server.query('CREATE DATABASE defaultdb')
    const url = server.url({ database: 'defaultdb', sslmode: 'disable' })
    db = new pg.Client({ connectionString: url })
    await db.connect()
    await createUserfileTables(db)
    await db.query('CREATE TABLE bench_seed (i int PRIMARY KEY, payload bytea NOT NULL)')
    for (let i = 0; i < SEEDS; i++) await db.query('INSERT INTO bench_seed VALUES ($1, $2)', [i, randomBytes(CHUNK)])

    const baselines: number[] = []
    for (let i = 0; i < 3; i++) baselines.push((await runChild(bundle, ['baseline'], scratch)).maxRssKiB)
    const nodeBaselineKiB = median(baselines)
    log(`Node baseline (bundle loaded, nothing done): ${mib(nodeBaselineKiB)} MiB`)

    const results: SizeResult[] = []
    for (const dataset of datasets(options)) {
      const loadStarted = performance.now()
      const files = await dataset.store(db)
      await db.query(`VACUUM ANALYZE ${PAYLOAD_TABLE}`)
      const slowed = options.chunkLatencyMs > 0 ? await withChunkLatency(db, options.chunkLatencyMs) : undefined
      log(`${dataset.label}: ${files.length} files stored in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`)
      const measure = new Map<Contender, () => Promise<Measurement>>([
        ...options.connections.map(n => [actionAt(n), () => childDownload(bundle, 'download', url, dataset, scratch, n)] as const),
        [PSQL, () => psqlCopy(url, files, 'binary', scratch)],
        [LOOPBACK, () => loopback(url, files, scratch)]
      ])
      const contenders = [...measure.keys()]
      // One unmeasured round warms the caches and checks every N's downloaded bytes against what was stored.
      const digest = await storedDigest(db, files)
      for (const n of options.connections) {
        const downloaded = (await childDownload(bundle, 'download', url, dataset, scratch, n, true)).sha256
        if (downloaded !== digest) throw new Error(`${dataset.label}: the download with ${n} connections differs from the stored bytes`)
      }
      await psqlCopy(url, files, 'binary', scratch)
      const result: SizeResult = {
        dataset,
        runs: runsFor(dataset.bytes, options),
        measured: new Map(contenders.map(name => [name, []]))
      }
      for (let i = 0; i < result.runs; i++) {
        // Interleaved and rotated, so that a slow spell on a noisy machine hits every contender alike.
        const order = contenders.map((_, k) => contenders[(i + k) % contenders.length]!)
        const line: string[] = []
        for (const contender of order) {
          const m = await measure.get(contender)!()
          result.measured.get(contender)!.push(m)
          line.push(`${contender} ${s(m.seconds)} s ${mib(m.maxRssKiB)} MiB`)
        }
        log(`  run ${i + 1}: ${line.join(', ')}`)
      }
      results.push(result)
      await slowed?.undo()
      await db.query(`TRUNCATE ${PAYLOAD_TABLE}, userfiles_root_upload_files`)
    }
    const command = `npm run bench:download${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
    process.stdout.write(
      `Command: \`${process.env.TMPDIR ? `TMPDIR=${process.env.TMPDIR} ` : ''}${command}\`\n\nMachine: ${await machine(server)}\n\nNode baseline RSS (the bundled child, loaded and exiting): ${mib(nodeBaselineKiB)} MiB; ${rssCrossCheck(results)}.\n\n${tables(results, nodeBaselineKiB)}\n`
    )
  } finally {
    await db?.end().catch(() => undefined) // the server is stopped next anyway
    await server?.stop()
    rmSync(scratch, { recursive: true, force: true })
    removeScratch()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
