/**
 * The directory a download goes into: what is there before anything is written, checked once while
 * the inputs are read and again just before the download, in case the workflow changed it.
 */
import { lstat, readdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { listLocalFiles } from '../storage/local-files.js'
import { ActionError } from '../base/errors.js'

const exists = (path: string): Promise<boolean> =>
  lstat(path).then(
    () => true,
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw error
    }
  )

export interface DownloadDirectory {
  /** Nothing is in it (or it does not exist yet). */
  empty: boolean
  /** The outermost directory the download will have to make, and remove on failure. */
  created: string | undefined
}

/**
 * A dangling symbolic link or a file is the user's and is refused (never replaced, never removed);
 * a link to a directory is followed.
 */
export async function inspectDirectory(directory: string): Promise<DownloadDirectory> {
  if (await exists(directory)) {
    const target = await stat(directory).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ActionError(`${directory} is a symbolic link to something that does not exist.`)
      }
      throw error
    })
    if (!target.isDirectory()) throw new ActionError(`${directory} exists and is not a directory.`)
    return { empty: (await readdir(directory)).length === 0, created: undefined }
  }
  let created = directory
  for (let parent = dirname(directory); parent !== created && !(await exists(parent)); parent = dirname(parent)) created = parent
  const below = dirname(created)
  if (below !== created && !(await stat(below)).isDirectory()) {
    throw new ActionError(`${below} is a file, so ${directory} cannot be made.`)
  }
  return { empty: true, created }
}

/** The directory can take a backup: missing, empty, or holding a backup (which must then be this one). */
export async function checkDownloadDirectory(directory: string): Promise<void> {
  const { empty } = await inspectDirectory(directory)
  if (!empty && !(await listLocalFiles(directory)).includes('BACKUP_MANIFEST')) {
    throw new ActionError(
      `${directory} is not empty and holds no backup. Use a new or empty directory, so old and new files are never mixed.`
    )
  }
}
