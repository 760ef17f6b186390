/** CockroachDB's version, read from `version()`, and the features the action depends on. */

export interface CockroachVersion {
  major: number
  minor: number
  /** As the server reported it, e.g. `v23.2.4`. */
  text: string
}

const VERSION = /CockroachDB (?:CCL|OSS)? ?v(\d+)\.(\d+)(?:\.\d+)?[^ ]*/

export function parseVersion(versionOutput: string): CockroachVersion | undefined {
  const match = VERSION.exec(versionOutput)
  if (!match?.[1] || !match[2]) return undefined
  return { major: Number(match[1]), minor: Number(match[2]), text: match[0].replace(/^CockroachDB (?:CCL|OSS)? ?/, '') }
}

export function atLeast(version: CockroachVersion | undefined, major: number, minor: number): boolean {
  if (version === undefined) return false
  return version.major > major || (version.major === major && version.minor >= minor)
}

/**
 * The `use_backups_with_ids` session variable exists from v26.2 (preview, PRs #160137 and #161328);
 * setting it on an older version fails with 42704, so it is only sent where it exists.
 */
export function hasUseBackupsWithIds(version: CockroachVersion | undefined): boolean {
  return atLeast(version, 26, 2)
}

/**
 * `SHOW BACKUP … WITH check_files` exists from v22.2: PR #80491 landed after the 22.1 branch cut,
 * and the v22.2 docs mark it "New in v22.2" (docs/cockroachdb-facts.md §2).
 */
export function supportsCheckFiles(version: CockroachVersion | undefined): boolean {
  return atLeast(version, 22, 2)
}

/**
 * A missing BACKUP_MANIFEST-CHECKSUM is an error from v22.2: SHOW BACKUP … WITH check_files (which
 * the action runs there) fails without one in every layer ("Error checking metadata file",
 * pkg/backup/show.go). Readers in every version accept a manifest without one ("might be an old
 * version", backupinfo/manifest_handling.go), so before v22.2 it is only a warning.
 */
export function writesManifestChecksum(version: CockroachVersion | undefined): boolean {
  return atLeast(version, 22, 2)
}

/**
 * From v25.4 the backup index parses a full backup's subdirectory as a date (`/2006/01/02-150405.00`):
 * BACKUP INTO any other subdirectory fails when it writes its index entry (v25.4 flattenSubdirForIndex,
 * v26.1 convertSubdirToIndexSubdir), and v26.2, which reads the index by default
 * (backup.index.read.enabled), fails SHOW BACKUP and RESTORE there too (docs/cockroachdb-facts.md §23).
 */
export function indexNeedsDateSubdirectory(version: CockroachVersion | undefined): boolean {
  return atLeast(version, 25, 4)
}

/**
 * `RESTORE … WITH new_db_name` is new in v22.1 (docs v22.1 restore.md "New in v22.1"; the v21.x
 * RESTORE option lists have none; facts §21, second reading R3-6, R3-10). An unknown version is let
 * through: CockroachDB's own error then says what is wrong.
 */
export function refusesNewDbName(version: CockroachVersion | undefined): boolean {
  return version !== undefined && !atLeast(version, 22, 1)
}
