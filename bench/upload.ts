/**
 * `npm run bench:upload [-- --sizes=32,512 --runs=3]`: the restore companion's upload into userfile
 * tables of a real PostgreSQL, each run in a fresh child process, against psql loading the same
 * payload (`\copy <payload table> FROM … WITH (FORMAT binary)`, one 4 MiB row per chunk, as the
 * upload writes it). Both start from empty tables; rounds are interleaved and alternate which goes
 * first. Prints a markdown table: min / median / max, the ratio per round, and peak RSS above the
 * idle bundle.
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { manifestChecksum } from '../src/storage/backup-folder.js'
import { startPostgres } from '../test/support/postgres.js'
import { createUserfileTables } from '../test/support/userfile-tables.js'

const run = promisify(execFile)
const ROOT = new URL('..', import.meta.url).pathname
const COLLECTION = 'userfile://defaultdb.public.userfiles_postgres/bench'
const PAYLOAD_TABLE = 'userfiles_postgres_upload_payload'
const CHUNK = 4 * 1024 * 1024
const TIME = '/usr/bin/time'

function parseArgs(argv: string[]): { sizesMiB: number[]; runs: number } {
  const options = { sizesMiB: [32, 512], runs: 3 }
  for (const arg of argv) {
    const [key, value = ''] = arg.split('=', 2)
    if (key === '--sizes' && /^\d+(,\d+)*$/.test(value)) options.sizesMiB = value.split(',').map(Number)
    else if (key === '--runs' && /^[1-9]\d*$/.test(value)) options.runs = Number(value)
    else throw new Error(`unknown argument ${arg} (use --sizes=32,512 in MiB, --runs=N)`)
  }
  return options
}

/** PostgreSQL's binary COPY format: a header, one tuple per 4 MiB chunk (uuid, int8, bytea), a trailer. */
function copyFile(dir: string, out: string): { name: string; id: string; size: number }[] {
  const stored: { name: string; id: string; size: number }[] = []
  const fd = openSync(out, 'w')
  writeSync(fd, Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]))
  const files = (sub: string): string[] =>
    readdirSync(join(dir, sub), { withFileTypes: true }).flatMap(e => (e.isDirectory() ? files(join(sub, e.name)) : [join(sub, e.name)]))
  for (const file of files('')) {
    const bytes = readFileSync(join(dir, file))
    const uuid = randomUUID()
    stored.push({ name: file, id: uuid, size: bytes.length })
    const id = Buffer.from(uuid.replaceAll('-', ''), 'hex')
    for (let offset = 0; offset < bytes.length || offset === 0; offset += CHUNK) {
      const chunk = bytes.subarray(offset, offset + CHUNK)
      const head = Buffer.alloc(2 + 4 + 16 + 4 + 8 + 4)
      head.writeInt16BE(3, 0)
      head.writeInt32BE(16, 2)
      id.copy(head, 6)
      head.writeInt32BE(8, 22)
      head.writeBigInt64BE(BigInt(offset), 26)
      head.writeInt32BE(chunk.length, 34)
      writeSync(fd, head)
      writeSync(fd, chunk)
      if (bytes.length === 0) break
    }
  }
  const trailer = Buffer.alloc(2)
  trailer.writeInt16BE(-1)
  writeSync(fd, trailer)
  closeSync(fd)
  return stored
}

function writeFolder(dir: string, sizeMiB: number): void {
  mkdirSync(join(dir, 'data'), { recursive: true })
  const manifest = randomBytes(200_000)
  writeFileSync(join(dir, 'BACKUP_MANIFEST'), manifest)
  writeFileSync(join(dir, 'BACKUP_MANIFEST-CHECKSUM'), manifestChecksum(manifest))
  const block = randomBytes(1 << 20)
  for (let file = 0, left = sizeMiB; left > 0; file++) {
    const fd = openSync(join(dir, 'data', `${file}.sst`), 'w')
    for (let i = 0; i < Math.min(64, left); i++) writeSync(fd, block)
    closeSync(fd)
    left -= 64
  }
}

interface Report {
  seconds: number
  maxRssKiB: number
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
const mib = (kib: number): string => (kib / 1024).toFixed(1)
const spread = (values: number[], digits: number): string =>
  `${Math.min(...values).toFixed(digits)} / ${median(values).toFixed(digits)} / ${Math.max(...values).toFixed(digits)}`

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const scratch = mkdtempSync(join(tmpdir(), 'bench-upload-'))
  const server = await startPostgres()
  try {
    await run(
      join(ROOT, 'node_modules/.bin/ncc'),
      ['build', join(ROOT, 'bench/upload-child.ts'), '-o', join(scratch, 'child'), '-q', '-t'],
      { cwd: ROOT }
    )
    const child = async (args: string[]): Promise<Report> =>
      JSON.parse((await run(process.execPath, [join(scratch, 'child/index.js'), ...args])).stdout) as Report
    const baseline = median(await Promise.all([0, 1, 2].map(() => child(['baseline']))).then(r => r.map(x => x.maxRssKiB)))
    const url = server.url({ database: 'defaultdb', sslmode: 'disable' })
    const emptyTables = async (): Promise<void> => {
      await server.query('DROP DATABASE IF EXISTS defaultdb WITH (FORCE)')
      await server.query('CREATE DATABASE defaultdb')
      const admin = new pg.Client({ connectionString: url })
      await admin.connect()
      await createUserfileTables(admin, 'userfiles_postgres')
      await admin.end()
    }
    /** One psql session: the file rows (a few), then every chunk through one binary COPY. */
    const psql = async (script: string): Promise<Report> => {
      const timeFile = join(scratch, 'time.txt')
      const started = performance.now()
      await run(TIME, ['-f', '%M', '-o', timeFile, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', script, url])
      return { seconds: (performance.now() - started) / 1000, maxRssKiB: Number(readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)) }
    }
    const lines = [
      '| size | rounds | action s (min / median / max) | action MiB/s | psql `\\copy … FROM` binary s (min / median / max) | ratio psql/action per round (min / median / max; target ≥ 0.6) | action peak RSS MiB (+ above the idle bundle; target ≤ +64) |',
      '| --- | --- | --- | --- | --- | --- | --- |'
    ]
    for (const size of options.sizesMiB) {
      const dir = join(scratch, `folder-${size}`)
      writeFolder(dir, size)
      const copy = join(scratch, `copy-${size}.bin`)
      const script = join(scratch, `copy-${size}.sql`)
      const rows = copyFile(dir, copy)
        .map(f => `('/bench/2024/05/07-141012.34/${f.name}', '${f.id}', ${f.size}, 'postgres')`)
        .join(',\n')
      writeFileSync(
        script,
        `INSERT INTO userfiles_postgres_upload_files (filename, file_id, file_size, username) VALUES\n${rows};\n` +
          `\\copy ${PAYLOAD_TABLE} (file_id, byte_offset, payload) FROM '${copy}' WITH (FORMAT binary)\n`
      )
      const action: Report[] = []
      const reference: Report[] = []
      for (let i = 0; i < options.runs; i++) {
        const order = i % 2 === 0 ? (['action', 'psql'] as const) : (['psql', 'action'] as const)
        for (const who of order) {
          await emptyTables()
          if (who === 'action') action.push(await child(['upload', url, COLLECTION, dir]))
          else reference.push(await psql(script))
        }
        console.error(
          `${size} MiB round ${i + 1}: action ${action.at(-1)?.seconds.toFixed(2)} s, psql ${reference.at(-1)?.seconds.toFixed(2)} s`
        )
      }
      rmSync(dir, { recursive: true, force: true })
      rmSync(copy, { force: true })
      rmSync(script, { force: true })
      const ratios = action.map((a, i) => reference[i]!.seconds / a.seconds)
      const peak = Math.max(...action.map(r => r.maxRssKiB))
      lines.push(
        `| ${size} MiB | ${options.runs} | ${spread(
          action.map(r => r.seconds),
          2
        )} | ${(size / median(action.map(r => r.seconds))).toFixed(0)} | ${spread(
          reference.map(r => r.seconds),
          2
        )} | ${spread(ratios, 2)} | ${mib(peak)} (+${mib(peak - baseline)}) |`
      )
    }
    const command = `npm run bench:upload${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
    console.log(`Command: \`${command}\`\n\nNode + bundle baseline: ${mib(baseline)} MiB\n\n${lines.join('\n')}`)
  } finally {
    await server.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}

await main()
