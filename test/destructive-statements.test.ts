/**
 * Every statement that drops, deletes or cancels, and every place in src/ that runs (or prints) one,
 * held against the proof it requires before it may run. A new destructive builder, a new call site
 * or a destructive SQL literal outside src/cluster/sql/ fails here until it is added below with its proof.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('..', import.meta.url).pathname
const DESTRUCTIVE = /\b(DROP|DELETE\s+FROM|CANCEL\s+JOBS?|TRUNCATE|PAUSE\s+JOBS?|RESUME\s+JOBS?|REVOKE|ALTER\s+\w+\s+\S+\s+RENAME)\b/

/** The builders in src/cluster/sql/ whose statement destroys something, and what each destroys. */
const BUILDERS: Record<string, string> = {
  cancelJob: 'a running job',
  dropDatabaseIfExists: 'a database and everything in it',
  deleteUserfilePayload: 'one stored file’s chunks, by file id',
  deleteUserfile: 'one stored file’s row, by file id',
  deleteUserfilePayloadLike: 'the chunks of every file under a name prefix',
  deleteUserfilesLike: 'the rows of every file under a name prefix',
  deleteUserfilePayloadOfIds: 'the chunks of the files with the given ids',
  deleteUserfilesOfIds: 'the rows of the files with the given ids',
  renameDatabase: 'a database’s name (it moves the database away from the name its users expect)'
}

/**
 * Functions in src/ that only wrap a destructive statement: their callers are the call sites that
 * need a proof (`file function`).
 */
const WRAPPERS: Record<string, string> = {
  'src/storage/userfile.ts deleteStoredFile': 'deleteStoredFile',
  'src/storage/userfile.ts deleteOnFreshSession': 'deleteOnFreshSession',
  'src/restore/upload.ts deleteFiles': 'deleteFiles',
  'src/restore/upload.ts deletedNow': 'deletedNow',
  'src/restore/replace.ts dropTemporary': 'dropTemporary',
  'src/restore/replace.ts putBack': 'putBack',
  'src/restore/replace.ts renameAside': 'renameAside',
  'src/backup/scratch-drop.ts dropOnce': 'dropOnce',
  'src/backup/scratch-drop.ts dropScratch': 'dropScratch',
  'src/backup/retention.ts deleteBackup': 'deleteBackup',
  'src/cluster/job.ts cancelJob': 'cancelJob'
}

/** `file function callee` → the proof the call site holds before the statement runs. */
const PROOFS: Record<string, string> = {
  'src/cluster/detached-job.ts cancelUnansweredJob sql.cancelJob':
    'the one unfinished RESTORE/BACKUP job of this session user, created since just before this step’s unanswered statement, whose whole description (SHOW JOB) carries as a string literal what only this step wrote (its own AS OF SYSTEM TIME decimal, or its scratch database name); with none or several, nothing is cancelled',
  'src/cluster/detached-job.ts nothingCancelled sql.cancelJob (printed)': 'printed for a person, never run',
  'src/cluster/job.ts cancelJob sql.cancelJob': 'wrapper: the job id this step started and follows (see its callers)',
  'src/cluster/job.ts runJobToEnd cancelJob':
    'job this step started itself (its id came back from its own statement) and stopped following before its end: at the timeout, on a workflow cancel, or when its status could no longer be read',
  'src/storage/userfile.ts deleteStoredFile sql.deleteUserfilePayload': 'wrapper: one file by id (see its callers)',
  'src/storage/userfile.ts deleteStoredFile sql.deleteUserfile': 'wrapper: one file by id (see its callers)',
  'src/storage/userfile.ts writeStoredFile deleteStoredFile':
    'a `<filename>.tmp` row, the temporary name only an unfinished upload of this very file uses; or the temporary file this call inserted itself (random file id), after its upload failed',
  'src/storage/userfile.ts writeStoredFile deleteOnFreshSession':
    'the temporary file this call inserted itself (random file id), on a cancel',
  'src/storage/userfile.ts deleteOnFreshSession deleteStoredFile': 'wrapper: the file passed in (see its callers)',
  'src/restore/upload.ts deleteFiles sql.deleteUserfilePayloadOfIds': 'wrapper: the file ids passed in (see its callers)',
  'src/restore/upload.ts deleteFiles sql.deleteUserfilesOfIds': 'wrapper: the file ids passed in (see its callers)',
  'src/restore/upload.ts deletedNow deleteFiles': 'wrapper: the file ids passed in (see its callers)',
  'src/restore/upload.ts uploadBackup deletedNow': 'as below, on this session right after the upload failed',
  'src/restore/upload.ts uploadBackup deleteFiles':
    'only the files this run wrote (ids writeStoredFile returned as written), when the upload or the restore after it failed; files that were there before are never in the list',
  'src/restore/replace.ts dropTemporary sql.dropDatabaseIfExists': 'wrapper: the temporary database (see ownTemporary)',
  'src/restore/replace.ts dropTemporary sql.dropDatabaseIfExists (printed)': 'printed for a person, never run',
  'src/restore/replace.ts ownTemporary dropTemporary':
    'the temporary database of RESTORE … new_db_name, registered only after RESTORE answered with its job id: RESTORE refuses an existing database, so it is this step’s own',
  'src/restore/replace.ts putBack sql.renameDatabase':
    'the old copy this step renamed aside itself, back to its own name, on a failure before the swap completed',
  'src/restore/replace.ts putBack sql.renameDatabase (printed)': 'printed for a person, never run',
  'src/restore/replace.ts renameAside sql.renameDatabase':
    'the database the user named with drop-existing (never system, defaultdb, postgres or the one holding the collection), only after the new copy was restored under the temporary name',
  'src/restore/replace.ts swapIn renameAside': 'as renameAside: after the restore job into the temporary database succeeded',
  'src/restore/replace.ts swapIn putBack': 'as putBack: registered only once the existing database was renamed aside by this step',
  'src/restore/replace.ts swapIn sql.renameDatabase':
    'the temporary database (this step’s own) into the name just freed by renaming the old copy aside',
  'src/restore/replace.ts swapIn sql.dropDatabaseIfExists':
    'named by the user with drop-existing, after the new copy is restored and in place: the old copy, under the aside name this step gave it',
  'src/restore/replace.ts swapIn sql.dropDatabaseIfExists (printed)': 'printed for a person, never run',
  'src/backup/scratch-drop.ts dropOnce sql.dropDatabaseIfExists': 'wrapper: a scratch database (see its callers)',
  'src/backup/scratch-drop.ts dropScratch dropOnce': 'wrapper: a scratch database (see its callers)',
  'src/backup/scratch-drop.ts dropScratch sql.dropDatabaseIfExists (printed)': 'printed for a person, never run',
  'src/backup/verify-restore.ts refuseExisting sql.dropDatabaseIfExists (printed)': 'printed for a person, never run',
  'src/backup/verify-restore.ts verifyAndDrop dropScratch':
    'scratch database created by this step: CREATE DATABASE or RESTORE … new_db_name answered without refusing (both refuse an existing database)',
  'src/backup/retention.ts deleteBackup sql.deleteUserfilePayloadLike':
    'wrapper: one full backup folder SHOW BACKUPS listed and keep-backups chose (see its callers); every listed name checked to be under the prefix first',
  'src/backup/retention.ts deleteBackup sql.deleteUserfilesLike': 'wrapper: as above',
  'src/backup/retention.ts applyRetention deleteBackup':
    'a date-named full backup SHOW BACKUPS lists in the collection the user named, older than the keep-backups newest, never the one just taken'
}

/** Statement text in src/ outside src/cluster/sql/: only messages that show a person what to run. */
const PRINTED_LITERALS: Record<string, string> = {
  'src/cluster/job.ts: `Cancelling job ${jobId} failed too (${d': 'printed for a person after the cancel itself failed, never run',
  "src/backup/scratch-drop.ts: 'DROP DATABASE had not answered when the": 'an error message about a DROP that timed out, never run'
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []
  )
}

/** Comments removed, string contents kept (good enough for this code base's style). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, match => match.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

/** The name of the last `function name(` (or method) that starts before `index`. */
function enclosingFunction(text: string, index: number): string {
  const pattern = /(?:function\s+(\w+)\s*[(<])|(?:^\s+(?:async\s+)?(\w+)\s*\([^)]*\)\s*(?::\s*[^{]+)?\{\s*$)/gm
  let name = '(top level)'
  for (const match of text.matchAll(pattern)) {
    if ((match.index ?? 0) > index) break
    const found = match[1] ?? match[2]
    if (found !== undefined && !['if', 'for', 'while', 'switch', 'catch'].includes(found)) name = found
  }
  return name
}

/** Whether the call at `index` sits inside a template literal's `${…}` (a statement printed for a person). */
function printed(text: string, index: number): boolean {
  const line = text.slice(text.lastIndexOf('\n', index) + 1, index)
  return /`[^`]*\$\{[^`]*$/.test(line) && !/\bquery\(\s*$/.test(line)
}

interface CallSite {
  key: string
  where: string
}

function callSites(): CallSite[] {
  const sites: CallSite[] = []
  const wrapperNames = new Set(Object.values(WRAPPERS))
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const path = relative(ROOT, file)
    if (path.startsWith('src/cluster/sql/')) continue
    const text = withoutComments(readFileSync(file, 'utf8'))
    const callees = [...Object.keys(BUILDERS).map(name => `sql\\.${name}`), ...[...wrapperNames].map(name => `(?<![.\\w])${name}`)]
    const pattern = new RegExp(`(${callees.join('|')})\\(`, 'g')
    for (const match of text.matchAll(pattern)) {
      const callee = match[1] ?? ''
      const index = match.index ?? 0
      const before = text.slice(Math.max(0, index - 30), index)
      if (/function\s+$/.test(before)) continue // the wrapper's own definition
      const caller = enclosingFunction(text, index)
      const line = text.slice(0, index).split('\n').length
      sites.push({ key: `${path} ${caller} ${callee}${printed(text, index) ? ' (printed)' : ''}`, where: `${path}:${line}` })
    }
  }
  return sites
}

describe('destructive statements', () => {
  const sqlText = sourceFiles(join(ROOT, 'src/cluster/sql'))
    .map(file => readFileSync(file, 'utf8'))
    .join('\n')

  it('lists every builder in src/cluster/sql/ whose statement drops, deletes, cancels or renames', () => {
    const builders = [...withoutComments(sqlText).matchAll(/export function (\w+)\([^)]*\)[^{]*\{([\s\S]*?)\n\}/g)]
      .filter(([, , body]) => DESTRUCTIVE.test(body ?? ''))
      .map(([, name]) => name)
    expect(builders.sort()).toEqual(Object.keys(BUILDERS).sort())
  })

  it('finds no destructive SQL text in src/ outside src/cluster/sql/', () => {
    const found: string[] = []
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const path = relative(ROOT, file)
      if (path.startsWith('src/cluster/sql/')) continue
      const text = withoutComments(readFileSync(file, 'utf8'))
      for (const literal of text.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g)) {
        // Upper-case statement words only: "Drop it by hand" is prose; "CANCEL JOB 12" would be SQL.
        if (/\b(DROP|DELETE FROM|TRUNCATE)\s+[A-Z]/.test(literal[0]) || /\bCANCEL JOBS?\s+[\d$]/.test(literal[0])) {
          const key = `${path}: ${literal[0].slice(0, 40)}`
          if (PRINTED_LITERALS[key] === undefined) found.push(key)
        }
      }
    }
    expect(found).toEqual([])
  })

  it('holds every call site in src/ against the proof it requires, and every proof against a call site', () => {
    const sites = callSites()
    const missing = sites.filter(site => PROOFS[site.key] === undefined).map(site => `${site.key}  (${site.where})`)
    expect(missing, 'call sites with no proof in PROOFS').toEqual([])
    const keys = new Set(sites.map(site => site.key))
    expect(
      Object.keys(PROOFS).filter(key => !keys.has(key)),
      'proofs whose call site is gone'
    ).toEqual([])
  })

  it('knows every wrapper it follows', () => {
    for (const key of Object.keys(WRAPPERS)) {
      const [path, name] = key.split(' ')
      expect(readFileSync(join(ROOT, path ?? ''), 'utf8')).toMatch(new RegExp(`function ${name}\\(`))
    }
  })
})
