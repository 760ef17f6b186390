/**
 * One measured upload in a process of its own (bundled with ncc by bench/upload.ts), so its peak
 * RSS is the upload's alone.
 *
 *   node child.js baseline                         loads the bundle and exits
 *   node child.js upload <url> <collection> <dir>  Session.open, uploadBackup, close
 *
 * Prints one JSON line: { seconds, maxRssKiB, written, bytes }.
 */
import { parseConnectionString } from '../src/cluster/connection-string.js'
import { Session } from '../src/cluster/connection.js'
import { readLocalBackupFolder } from '../src/storage/backup-folder.js'
import { uploadBackup } from '../src/restore/upload.js'
import { userfileLocation } from '../src/storage/userfile-location.js'

async function main(): Promise<void> {
  const [mode, url, collection, directory] = process.argv.slice(2)
  if (mode === 'baseline') {
    console.log(JSON.stringify({ seconds: 0, maxRssKiB: process.resourceUsage().maxRSS, written: 0, bytes: 0 }))
    return
  }
  if (mode !== 'upload' || !url || !collection || !directory) throw new Error('usage: upload <url> <collection> <dir>')
  const started = performance.now()
  const session = await Session.open(parseConnectionString(url), { waitTimeoutMs: 10_000 })
  try {
    const location = userfileLocation(collection, session.info.user)
    const result = await uploadBackup(session, location, '/2024/05/07-141012.34', await readLocalBackupFolder(directory), () => undefined)
    const seconds = (performance.now() - started) / 1000
    console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, written: result.written, bytes: result.bytes }))
  } finally {
    await session.close()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
