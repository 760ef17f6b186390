/** The files of a local directory tree, and their digests, as both the download's checks and the upload read them. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ActionError } from '../base/errors.js'

/** Files under a directory, as sorted relative paths with / separators. */
export async function listLocalFiles(directory: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(directory, prefix), { withFileTypes: true })
  const nested: string[][] = []
  for (const entry of entries) {
    if (entry.isDirectory()) nested.push(await listLocalFiles(directory, `${prefix}${entry.name}/`))
    else if (entry.isFile()) nested.push([`${prefix}${entry.name}`])
    else
      throw new ActionError(`${join(directory, prefix, entry.name)} is neither a file nor a directory; a backup folder holds only files.`)
  }
  return nested.flat().sort()
}

/** A local file's SHA-256 (hex), read as a stream: backup files run to 64 MiB and more. */
export async function localSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
