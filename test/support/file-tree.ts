/** Every file under a directory, as paths relative to it with / separators, sorted. */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

export function listTree(directory: string, prefix = ''): string[] {
  return readdirSync(join(directory, prefix), { withFileTypes: true })
    .flatMap(entry => (entry.isDirectory() ? listTree(directory, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort()
}
