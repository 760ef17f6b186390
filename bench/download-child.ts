/**
 * One measured download, in a process of its own so that its peak RSS is the download's alone.
 * bench/download.ts bundles this file with ncc (as the action itself is bundled) and runs the
 * bundle with plain node: tsx's loader thread would add about 30 MiB to every number.
 *
 *   node child.js baseline                                    loads the bundle and exits
 *   node child.js download <url> <collection> <path> <dir> <n>  the action: Session.open, downloadBackup over n connections, close
 *
 * Prints one JSON line (ChildReport). The clock and maxRSS are read before the optional hash.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { parseConnectionString } from '../src/cluster/connection-string.js'
import { Session } from '../src/cluster/connection.js'
import { downloadBackup } from '../src/backup/download.js'
import { listLocalFiles } from '../src/storage/local-files.js'
import { userfileLocation } from '../src/storage/userfile-location.js'

export interface ChildReport {
  seconds: number
  /** With BENCH_HASH=1: SHA-256 over every downloaded file in name order, computed after the clock stops. */
  sha256?: string
  /** process.resourceUsage().maxRSS: the peak resident set of this process, in KiB. */
  maxRssKiB: number
  files: number
  bytes: number
}

const MODES = ['download'] as const
export type Mode = (typeof MODES)[number]

async function hashTree(directory: string): Promise<string> {
  const hash = createHash('sha256')
  for (const file of await listLocalFiles(directory)) {
    hash.update(`${file}\0`)
    for await (const piece of createReadStream(join(directory, file))) hash.update(piece as Buffer)
  }
  return hash.digest('hex')
}

async function download(
  mode: Mode,
  url: string,
  collection: string,
  backupPath: string,
  directory: string,
  connections: number
): Promise<ChildReport> {
  const started = performance.now()
  const settings = parseConnectionString(url)
  const session = await Session.open(settings, { waitTimeoutMs: 10_000 })
  const close = (): Promise<void> => session.close()
  try {
    const location = userfileLocation(collection, settings.user)
    const result = await downloadBackup(session, location, backupPath, directory, () => undefined, { connections })
    const seconds = (performance.now() - started) / 1000
    const maxRssKiB = process.resourceUsage().maxRSS
    const sha256 = process.env.BENCH_HASH === '1' ? await hashTree(directory) : undefined
    return { seconds, maxRssKiB, files: result.files, bytes: result.bytes, ...(sha256 ? { sha256 } : {}) }
  } finally {
    await close()
  }
}

async function main(args: string[]): Promise<void> {
  const [mode, url, collection, backupPath, directory, connections = '1'] = args
  let report: ChildReport
  if (mode === 'baseline') report = { seconds: 0, maxRssKiB: process.resourceUsage().maxRSS, files: 0, bytes: 0 }
  else if (MODES.includes(mode as Mode) && url && collection && backupPath && directory)
    report = await download(mode as Mode, url, collection, backupPath, directory, Number(connections))
  else throw new Error('usage: child.js baseline | download <url> <collection> <backup-path> <directory> [connections]')
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
