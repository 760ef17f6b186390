/**
 * `npm run bench:upload`: the restore companion's upload into userfile tables of a real PostgreSQL,
 * at 32 MiB, 256 MiB and 1 GiB, each in a fresh child process; peak RSS must stay flat as the
 * backup grows (the upload holds one 4 MiB chunk at a time). Prints a markdown table.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { manifestChecksum } from '../src/backup-folder.js'
import { startPostgres } from '../test/support/postgres.js'
import { createUserfileTables } from '../test/support/userfile-tables.js'

const run = promisify(execFile)
const ROOT = new URL('..', import.meta.url).pathname
const COLLECTION = 'userfile://defaultdb.public.userfiles_postgres/bench'
const SIZES_MIB = [32, 256, 1024]
const RUNS = 3

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

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN
const mib = (kib: number): string => (kib / 1024).toFixed(1)

async function main(): Promise<void> {
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
    const lines = ['| size | runs | median s | MiB/s | peak RSS MiB (on top of Node + bundle) |', '| --- | --- | --- | --- | --- |']
    for (const size of SIZES_MIB) {
      const dir = join(scratch, `folder-${size}`)
      writeFolder(dir, size)
      const reports: Report[] = []
      for (let i = 0; i < RUNS; i++) {
        await server.query('DROP DATABASE IF EXISTS defaultdb WITH (FORCE)')
        await server.query('CREATE DATABASE defaultdb')
        const url = server.url({ database: 'defaultdb', sslmode: 'disable' })
        const admin = new pg.Client({ connectionString: url })
        await admin.connect()
        await createUserfileTables(admin, 'userfiles_postgres')
        await admin.end()
        reports.push(await child(['upload', url, COLLECTION, dir]))
      }
      rmSync(dir, { recursive: true, force: true })
      const seconds = median(reports.map(r => r.seconds))
      const peak = Math.max(...reports.map(r => r.maxRssKiB))
      lines.push(
        `| ${size} MiB | ${RUNS} | ${seconds.toFixed(2)} | ${(size / seconds).toFixed(0)} | ${mib(peak)} (+${mib(peak - baseline)}) |`
      )
      console.error(`${size} MiB done`)
    }
    console.log(`Node + bundle baseline: ${mib(baseline)} MiB\n\n${lines.join('\n')}`)
  } finally {
    await server.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}

await main()
