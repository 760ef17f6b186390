/**
 * drop-existing without losing the existing database to a failed restore: RESTORE goes to a
 * temporary name first; only once that job succeeded is the existing database renamed aside, the
 * new copy renamed into its place, and the old copy dropped. Until the swap, every failure (and a
 * cancelled workflow) leaves the existing database untouched and drops the temporary one.
 */
import { randomBytes } from 'node:crypto'
import type { StepCleanup } from '../base/cleanup.js'
import { QueryError, type Session } from '../cluster/connection.js'
import { ActionError, describeError } from '../base/errors.js'
import * as log from '../base/log.js'
import * as sql from '../cluster/sql/index.js'

export interface Replacement {
  /** The database being replaced: the name the restored copy ends up with. */
  name: string
  /** RESTORE … new_db_name: RESTORE refuses an existing database, so once its job exists this one is the step's own. */
  temporary: string
  /** Where the existing database waits, renamed by this step, until the new copy is in place. */
  aside: string
}

export function planReplacement(name: string, suffix = randomBytes(4).toString('hex')): Replacement {
  return { name, temporary: `${name}_restoring_${suffix}`, aside: `${name}_replaced_${suffix}` }
}

const FRESH_CONNECTION_TIMEOUT_MS = 2_500
const DROP_ATTEMPTS = 3
const DROP_RETRY_MS = 500

/** Undo runs on a connection of its own: the step's session may be cancelled or broken. */
async function onFreshSession(session: Session, work: (fresh: Session) => Promise<string>): Promise<string> {
  const fresh = await session.fresh(FRESH_CONNECTION_TIMEOUT_MS)
  try {
    return await work(fresh)
  } finally {
    await fresh.close()
  }
}

/** A cancelled or failed RESTORE removes its own descriptors, and while it does, its database can refuse a DROP. */
async function dropTemporary(session: Session, name: string): Promise<string> {
  let lastError: unknown
  for (let attempt = 1; attempt <= DROP_ATTEMPTS; attempt++) {
    try {
      await session.query(sql.dropDatabaseIfExists(name), [], `dropping the temporary database ${name}`)
      return `Dropped the temporary database ${name} of the unfinished restore.`
    } catch (error) {
      lastError = error
      if (attempt < DROP_ATTEMPTS) await new Promise(resolve => setTimeout(resolve, DROP_RETRY_MS))
    }
  }
  return `The temporary database ${name} could not be dropped (${describeError(lastError)}); drop it by hand: ${sql.dropDatabaseIfExists(name)}`
}

/** Registers the undo that drops the temporary database; call once RESTORE has answered with its job. */
export function ownTemporary(session: Session, replacement: Replacement, cleanup: StepCleanup | undefined): () => void {
  const release = cleanup?.add({
    what: `drop the temporary database ${replacement.temporary}`,
    run: () => onFreshSession(session, fresh => dropTemporary(fresh, replacement.temporary))
  })
  return release ?? (() => undefined)
}

async function putBack(session: Session, { name, aside }: Replacement): Promise<string> {
  try {
    await session.query(sql.renameDatabase(aside, name), [], `renaming ${aside} back to ${name}`)
    return `Renamed ${aside} back to ${name}: the existing database is as it was.`
  } catch (error) {
    return `The existing database is kept as ${aside} but could not be renamed back (${describeError(error)}); run: ${sql.renameDatabase(aside, name)}`
  }
}

/** Renames the existing database aside; false when there is none (3D000). */
async function renameAside(session: Session, { name, aside }: Replacement): Promise<boolean> {
  try {
    await session.query(sql.renameDatabase(name, aside), [], `renaming ${name} aside to ${aside}`)
    return true
  } catch (error) {
    if (error instanceof QueryError && error.code === '3D000') return false
    throw new ActionError(
      `${name} could not be renamed aside, so it was left as it is and the restored copy is dropped.\n${describeError(error)}`,
      error instanceof QueryError && error.code === '2BP01'
        ? `ALTER DATABASE … RENAME is refused while a view or function depends on the database's tables; drop it first, or restore beside ${name} with new-db-name.`
        : undefined,
      { cause: error }
    )
  }
}

/**
 * The swap, once the restore into the temporary database succeeded. `name` is missing only between
 * the two renames: two statements, one round trip apart (each its own implicit transaction).
 */
export async function swapIn(
  session: Session,
  replacement: Replacement,
  releaseTemporary: () => void,
  cleanup: StepCleanup | undefined,
  say: (message: string) => void
): Promise<void> {
  const { name, temporary, aside } = replacement
  const hadOld = await renameAside(session, replacement)
  const releaseAside = hadOld
    ? cleanup?.add({ what: `rename ${aside} back to ${name}`, run: () => onFreshSession(session, fresh => putBack(fresh, replacement)) })
    : undefined
  await session.query(sql.renameDatabase(temporary, name), [], `renaming the restored copy ${temporary} to ${name}`)
  releaseTemporary()
  releaseAside?.()
  if (!hadOld) {
    say(`Restored as ${name}; no database of that name existed.`)
    return
  }
  say(`Replaced ${name} with the restored copy; the old one was renamed ${aside}.`)
  try {
    await session.query(sql.dropDatabaseIfExists(aside), [], `dropping the old copy ${aside}`)
    say(`Dropped the old copy ${aside} (drop-existing: true).`)
  } catch (error) {
    log.warning(`The old copy of ${name} is kept as ${aside}: ${describeError(error)}\nDrop it by hand: ${sql.dropDatabaseIfExists(aside)}`)
  }
}
