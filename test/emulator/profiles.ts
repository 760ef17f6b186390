/**
 * CockroachDB versions the emulator can play. Every behaviour that differs between versions is a
 * named field here, so the rest of the emulator asks "does this version do X?" and never compares
 * version numbers. Each profile is the one before it plus its changes, each change with its source
 * (details in docs/cockroachdb-facts.md, section numbers in the comments).
 */

export type ProfileName =
  'v21.1' | 'v21.2' | 'v22.1' | 'v22.2' | 'v23.2' | 'v24.3' | 'v25.2' | 'v25.3' | 'v25.4' | 'v26.1' | 'v26.2' | 'v26.3'

export type ColumnType =
  'INT8' | 'STRING' | 'FLOAT8' | 'BOOL' | 'TIMESTAMP' | 'TIMESTAMPTZ' | 'BYTES' | 'UUID' | 'INTERVAL' | 'STRING[]' | 'DECIMAL'

export interface VersionProfile {
  name: ProfileName
  /** What `version()` and the `crdb_version` parameter report (pkg/build/info.go Short()). */
  versionString: string
  /** The `server_version` parameter: the PostgreSQL version CockroachDB claims. */
  serverVersion: string

  // SHOW BACKUPS IN (facts §1)
  /** Listing needs a leading slash before the three folder levels (before PR #80182), so a collection at the storage root lists nothing. */
  listingNeedsLeadingSlash: boolean
  /** Rows lose their leading slash: the seed document's `2021/03/23-213101.37`, from early-2021 code. */
  listingStripsLeadingSlash: boolean

  // BACKUP (facts §3, §4, §6, §11, §13)
  /** The non-detached result header: 6 columns up to v24.3, 4 from v25.1 (PR #134516). */
  backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes' | 'job_id,status,fraction_completed,rows'
  /** v22.1+: `INTO 'sub' IN` only appends an incremental; before, it made a full backup in /sub. */
  subdirectoryAppendsOnly: boolean
  /**
   * The error for `INTO 'sub' IN` without a full backup there (with subdirectoryAppendsOnly):
   * `deprecated-syntax`: `A full backup cannot be written to "/sub", a user defined subdirectory. …
   * switching the "bulkio.backup.deprecated_full_backup_with_subdir.enabled" cluster setting …`
   * (v22.1-era backupccl resolveDest, the form after PR #81976 fixed the setting's name in v22.1.3;
   * reading Q29); `no-full-backup`: `No full backup exists in "/sub" to append an incremental backup
   * to. …` (a v25.4-dev backupdest/backup_destination.go). Where the wording changed between v22.2
   * and v25.3 is not settled; the later text stands for v22.2+ here.
   */
  fullBackupIntoSubdirError: 'deprecated-syntax' | 'no-full-backup'
  /**
   * A BACKUP or RESTORE without `detached` inside BEGIN … COMMIT fails (XXUUU): `… cannot be used inside
   * a transaction without DETACHED option` (v21.x, `TxnImplicit` check), `… inside a multi-statement
   * transaction …` (the `TxnIsSingleStmt` check of later 22.1-shaped files; reading Q21, most likely from
   * v22.1.0, not settled).
   */
  transactionRefusalSaysMultiStatement: boolean
  /** v22.1+: the destination (LATEST, subdir) is resolved inside the job, so a detached BACKUP reports those errors in the job. */
  destinationResolvedInJob: boolean
  /** v22.1+ keeps `INTO 'LATEST' IN` in the description; v21.x writes the resolved folder. */
  descriptionKeepsLatest: boolean
  /** v22.2+ prints `revision_history = true`; v21.x prints the bare flag. */
  revisionHistoryIsExpression: boolean
  /**
   * The description wraps its options: `… WITH OPTIONS (revision_history = true, detached)` instead of
   * `… WITH revision_history = true, detached` (tree.Backup.Format; PR #107723 on release-23.1 and
   * its release-22.2 backport #109598, merged 2023-08-28; so v23.2+ and late v22.2/v23.1 patches —
   * reading Q25; exact first patches not settled).
   */
  descriptionOptionsInParentheses: boolean
  /** Where incremental layers go (facts §13). */
  incrementalLayout: 'inside-full' | 'incrementals-dir' | 'incrementals-dir-with-start'
  /** Which LATEST files a backup writes (facts §12): the root file up to v21.2, only `metadata/latest/` from v22.1. */
  latestFiles: { root: boolean; metadataDir: boolean }
  /**
   * The target-resolution error ends with `, or invalid RESTORE timestamp: …` (backupresolver
   * ResolveTargetsToDescriptors with BACKUP's endTime as asOf, v21.2-era to v26.1). PR #157790
   * ("backupresolver: avoid fetching all descriptors", v26.2.0-alpha.1 release notes) resolves
   * through the descriptor Collection and drops the suffix (reading Q27).
   */
  resolveErrorMentionsRestoreTimestamp: boolean
  /**
   * A missing database's SQLSTATE: XXUUU from the plain `errors.Wrapf` up to v26.1; from PR #157790
   * (v26.2) the Collection's own not-found error, 3D000 (inferred by the reading, Q27: the standard
   * sqlerrors.NewUndefinedDatabaseError), kept under the `failed to resolve targets …` wrap.
   */
  missingDatabaseCode: 'XXUUU' | '3D000'
  /** `BACKUP-STATISTICS` is written (v21.x+). */
  writesStatistics: boolean
  /** Default GC TTL: 25 h before v23.1, 4 h on fresh v23.1+ clusters. */
  gcTtlSeconds: number

  // SHOW BACKUP (facts §2)
  showBackupTimestampType: 'TIMESTAMP' | 'TIMESTAMPTZ'
  /** The `backup_type` column (full/incremental) after `object_type`: v21.2+ (PR #63832, v21.2.0-beta.1 notes; reading Q12). */
  showBackupHasBackupType: boolean
  showBackupHasRegions: boolean
  /** `WITH check_files` and its `file_bytes` column (v22.2+: PR #80491 landed after the 22.1 branch cut). */
  supportsCheckFiles: boolean
  /** `SHOW BACKUP FROM '<subdir>' IN …` (v22.1+, PR #78427). */
  supportsShowBackupFrom: boolean
  /**
   * `RESTORE … WITH new_db_name` (new in v22.1: docs v22.1 restore.md; second reading R3-6, R3-10).
   * Before, the option is not in the grammar: the emulator answers the syntax error (text unconfirmed).
   */
  restoreHasNewDbName: boolean
  /**
   * How userfile storage reports a missing file: `file <path> does not exist in the UserFileTableSystem:
   * external_storage: file doesn't exist` (BSL-era file_table_storage.go), or the path-less
   * `file does not exist: file does not exist in the UserFileTableSystem: external_storage: file does
   * not exist` (cloud.WrapErrFileDoesNotExist, seen only in a v24.3-or-later file). The release of the
   * switch is NOT settled (reading Q20): v25.2 here is a placeholder, not a sourced boundary.
   */
  missingFileText: 'with-path' | 'without-path'
  /**
   * A missing manifest is reported after trying BACKUP_METADATA, BACKUP_MANIFEST and BACKUP:
   * `could not find BACKUP manifest file in any of the known locations: BACKUP_METADATA,
   * BACKUP_MANIFEST, BACKUP: <storage error for …/BACKUP>` (backupinfo ReadBackupManifestFromStore,
   * reading Q20); before, the BACKUP_MANIFEST error itself. BACKUP_METADATA is a v23.1 format; the
   * wrap's first release is not settled (the copy read is v24.3+), so on here from v23.2.
   */
  missingManifestListsKnownLocations: boolean

  // Jobs (facts §5; pkg/sql/delegate/show_jobs.go)
  jobsTimestampType: 'TIMESTAMP' | 'TIMESTAMPTZ'
  /**
   * SHOW JOB(S)'s columns after the 14 base ones (pkg/sql/delegate/show_jobs.go, reading Q37):
   * `trace-id` (v21.x copy: `…, coordinator_id, trace_id`); `execution-columns` (v23.1/v23.2 copy:
   * `trace_id, last_run, next_run, num_runs, execution_errors`; whether v22.x already had them is not
   * settled: the project read them in a release-22.1 copy); `ids-only-extras` (PRs #121272, #121286,
   * v24.1.0-beta.1 notes: last_run, next_run, num_runs dropped; `statement`, `trace_id` and
   * `execution_errors` only when job ids are given, i.e. SHOW JOB, not SHOW JOBS).
   */
  showJobColumns: 'trace-id' | 'execution-columns' | 'ids-only-extras'
  /** SHOW JOB(S) has `started`; v25.3.0-beta.1 notes: "Removed the 'started' column in SHOW JOBS" (reading Q26, Q37). */
  showJobsHasStarted: boolean
  /** The word in `job with status|state X cannot be requested to be canceled` (Status was renamed State in newest code). */
  jobStateWord: 'status' | 'state'
  /**
   * v24.1+ (PRs #121272, #121286): SHOW JOB(S) shows `created`, `started`, `finished` and `modified`
   * as `date_trunc('second', …)` (pkg/sql/delegate/show_jobs.go; facts §5).
   */
  showJobsTruncatesTimes: boolean
  /** v24.1+: SHOW JOBS (not SHOW JOB <id>) abbreviates a description over 70 characters to its first 59, ` … `, its last 7. */
  showJobsAbbreviatesDescriptions: boolean
  /**
   * A detached job created from a session whose time zone is ahead of UTC stays `running` and never
   * starts (cockroach #123207; fixed by PR #123632 in v24.3.0, backported to v24.1.6 and v24.2.4, not
   * to v23.2: #131409 was closed). Not read for v21.x–v22.x, so off there.
   */
  detachedJobsFromZonesAheadOfUtcNeverStart: boolean
  /** v23.2+ (PR #107090): cluster_logical_timestamp() fails with 0A000 under READ COMMITTED or REPEATABLE READ. */
  clusterTimestampNeedsSerializable: boolean

  // Session variables and access (facts §14)
  /**
   * `allow_unsafe_internals`: absent before v25.4; v25.4 adds it, on by default; v26.1 turns it off,
   * so an ordinary session's statement that reads crdb_internal or system fails with 42501 (PR #158085).
   */
  allowUnsafeInternals: 'absent' | 'default-on' | 'default-off'
  /** `use_backups_with_ids` (v26.2, preview, default off): SHOW BACKUPS IN returns `id, backup_time, revision_start_time`. */
  hasUseBackupsWithIds: boolean
  /** v22.2+: SHOW DATABASES lists only databases the user has CONNECT on (facts §15). */
  showDatabasesNeedsConnect: boolean

  // Backup index and licences (facts §16, §17)
  /**
   * The backup index, one `metadata/index/<directory>/<descending end>_<start or 0>_<end>_metadata.pb`
   * per layer: none before v25.4; v25.4 names the directory after the full backup's folder with `-`
   * for `/` (pkg/backup/backupdest/backup_index.go flattenSubdirForIndex); v26.1+ names it
   * `<descending-encoded end>_<20060102-150405.00>` (pkg/backup/backupinfo/backup_index.go
   * convertSubdirToIndexSubdir, PR #158897). Both parse the full backup's subdirectory as a date,
   * so an incremental into a non-date subdirectory fails when it writes its entry (facts §16, §23).
   */
  backupIndex: 'none' | 'flattened-folder' | 'descending-end-time'
  /**
   * v26.2 turns `backup.index.read.enabled` on by default (v26.2 release notes, cluster setting
   * changes), so SHOW BACKUP, RESTORE and BACKUP INTO '<subdir>' look the chain up in the index first
   * (FindAllIncrementalPaths → ListIndexes), which parses the subdirectory as a date (cockroach #172292).
   */
  readsBackupIndex: boolean
  /**
   * Incremental, revision_history and encryption_passphrase need an enterprise licence (XXC02) up to
   * v23.2 patches from before the late-2024 licence change; v24.3 shipped with it. The emulator
   * checks it only on a cluster started with `licensed: false`.
   */
  enterpriseFeaturesNeedLicence: boolean
}

const COMMON = { serverVersion: '13.0.0', writesStatistics: true } as const

function build(tag: string, date: string, go: string): string {
  return `CockroachDB CCL ${tag} (x86_64-pc-linux-gnu, built ${date}, ${go})`
}

/** The early-2021 code the seed document's slashless `2021/03/23-213101.37` came from. */
const V21_1: VersionProfile = {
  ...COMMON,
  name: 'v21.1',
  versionString: build('v21.1.6', '2021/07/20 15:30:39', 'go1.15.11'),
  listingNeedsLeadingSlash: false,
  listingStripsLeadingSlash: true,
  backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes',
  subdirectoryAppendsOnly: false,
  fullBackupIntoSubdirError: 'deprecated-syntax',
  transactionRefusalSaysMultiStatement: false,
  destinationResolvedInJob: false,
  descriptionKeepsLatest: false,
  revisionHistoryIsExpression: false,
  descriptionOptionsInParentheses: false,
  incrementalLayout: 'inside-full',
  latestFiles: { root: true, metadataDir: false },
  resolveErrorMentionsRestoreTimestamp: false,
  missingDatabaseCode: 'XXUUU',
  gcTtlSeconds: 25 * 3600,
  showBackupTimestampType: 'TIMESTAMP',
  showBackupHasBackupType: false,
  showBackupHasRegions: false,
  supportsCheckFiles: false,
  supportsShowBackupFrom: false,
  restoreHasNewDbName: false,
  missingFileText: 'with-path',
  missingManifestListsKnownLocations: false,
  jobsTimestampType: 'TIMESTAMP',
  showJobColumns: 'trace-id',
  showJobsHasStarted: true,
  jobStateWord: 'status',
  showJobsTruncatesTimes: false,
  showJobsAbbreviatesDescriptions: false,
  detachedJobsFromZonesAheadOfUtcNeverStart: false,
  clusterTimestampNeedsSerializable: false,
  allowUnsafeInternals: 'absent',
  hasUseBackupsWithIds: false,
  showDatabasesNeedsConnect: false,
  backupIndex: 'none',
  readsBackupIndex: false,
  enterpriseFeaturesNeedLicence: true
}

const V21_2: VersionProfile = {
  ...V21_1,
  name: 'v21.2',
  // An early v21.2 patch: before the #80510 backport, so the storage root lists nothing.
  versionString: build('v21.2.3', '2021/12/14 15:26:24', 'go1.16.6'),
  // Rows keep the slash: userfile List trims only the URI path (facts §1); the root needs it (pre-#80182).
  listingNeedsLeadingSlash: true,
  listingStripsLeadingSlash: false,
  // backupresolver/targets.go: BACKUP passes endTime as asOf (facts §6).
  resolveErrorMentionsRestoreTimestamp: true,
  // PR #63832 (v21.2.0-beta.1): SHOW BACKUP's backup_type column (reading Q12).
  showBackupHasBackupType: true
}

const V22_1: VersionProfile = {
  ...V21_2,
  name: 'v22.1',
  versionString: build('v22.1.22', '2023/08/14 18:04:31', 'go1.17.11'),
  // PR #80182 (Apr 2022) makes the leading slash optional in the listing pattern (facts §1).
  listingNeedsLeadingSlash: false,
  // Later 22.1-shaped backup_planning.go: `!(TxnIsSingleStmt || detached)` (reading Q21).
  transactionRefusalSaysMultiStatement: true,
  // ResolveDest "Pre 22.1: this was fine"; cluster-version gate BackupResolutionInJob (facts §3, §6).
  subdirectoryAppendsOnly: true,
  destinationResolvedInJob: true,
  descriptionKeepsLatest: true,
  // Incrementals under /incrementals and LATEST under metadata/latest from v22.1 (facts §12, §13).
  incrementalLayout: 'incrementals-dir',
  // WriteNewLatestFile on a finalized v22.1+ cluster writes only metadata/latest/LATEST-<hex> (the root
  // file only in a mixed 21.2/22.1 cluster or on http storage): PRs #77284, #79553 (reading Q31).
  latestFiles: { root: false, metadataDir: true },
  // PR #78427 (Mar 2022): SHOW BACKUP FROM '<subdir>' IN (facts §2).
  supportsShowBackupFrom: true,
  // new_db_name is new in v22.1 (docs v22.1 restore.md; second reading R3-6).
  restoreHasNewDbName: true,
  // SHOW JOB's execution columns: present in the release-22.1 show_jobs.go (antithesis-instrumented
  // copy) and in the v23.x copy (reading Q37; the v22.x placement is not settled there).
  showJobColumns: 'execution-columns'
  // check_files stays off: PR #80491 landed after the 22.1 branch cut (v22.2 docs: "New in v22.2").
}

const V22_2: VersionProfile = {
  ...V22_1,
  name: 'v22.2',
  versionString: build('v22.2.19', '2024/02/12 19:10:31', 'go1.19.13'),
  // tree.BackupOptions: revision_history became an expression (facts §3).
  revisionHistoryIsExpression: true,
  // v22.2.19 (Feb 2024) is cut after the #109598 backport (2023-08-28): `WITH OPTIONS (…)` (reading Q25).
  descriptionOptionsInParentheses: true,
  // Placeholder: the release of the `No full backup exists` wording is not settled (reading Q29).
  fullBackupIntoSubdirError: 'no-full-backup',
  // PR #80491; docs v22.2 show-backup.md "New in v22.2" (facts §2).
  supportsCheckFiles: true,
  // pkg/sql/delegate/show_databases.go filters by CONNECT from v22.2 (facts §15).
  showDatabasesNeedsConnect: true
}

const V23_2: VersionProfile = {
  ...V22_2,
  name: 'v23.2',
  versionString: build('v23.2.4', '2024/04/08 22:23:28', 'go1.21.8 X:nocoverageredesign'),
  // Fresh v23.1+ clusters: 4 h default GC TTL (facts §11).
  gcTtlSeconds: 4 * 3600,
  // PR #108290 (v23.2): TIMESTAMPTZ; PR #88136 (v23.1): regions (facts §2).
  showBackupTimestampType: 'TIMESTAMPTZ',
  showBackupHasRegions: true,
  jobsTimestampType: 'TIMESTAMPTZ',
  // backupinfo ReadBackupManifestFromStore: the three manifest names, then the wrapped error (reading Q20).
  missingManifestListsKnownLocations: true,
  // cockroach #123207: v23.2 never got the fix (PR #123632; its backport #131409 was closed).
  detachedJobsFromZonesAheadOfUtcNeverStart: true,
  // PR #107090: GetClusterTimestamp refuses isolation levels that tolerate write skew (facts §7a).
  clusterTimestampNeedsSerializable: true
}

const V24_3: VersionProfile = {
  ...V23_2,
  name: 'v24.3',
  versionString: build('v24.3.5', '2025/02/10 17:42:12', 'go1.22.8 X:nocoverageredesign'),
  // The only modelled difference from v23.2.4: v24.3 shipped with the Nov 2024 licence change, so
  // incremental, revision_history and encryption need no enterprise licence (facts §17).
  enterpriseFeaturesNeedLicence: false,
  // PR #123632 (v24.3.0): jobs are created ignoring the session's time zone.
  detachedJobsFromZonesAheadOfUtcNeverStart: false,
  // PRs #121272, #121286 (v24.1): SHOW JOBS truncates times to the second and abbreviates descriptions,
  // drops last_run, next_run, num_runs, and shows statement, trace_id, execution_errors only with ids.
  showJobsTruncatesTimes: true,
  showJobsAbbreviatesDescriptions: true,
  showJobColumns: 'ids-only-extras'
}

const V25_2: VersionProfile = {
  ...V24_3,
  name: 'v25.2',
  versionString: build('v25.2.2', '2025/06/26 14:18:05', 'go1.23.7 X:nocoverageredesign'),
  // PR #134516 (v25.1): BackupRestoreJobResultHeader, 4 columns (facts §4).
  backupResultColumns: 'job_id,status,fraction_completed,rows',
  // v25.2+ incremental folder names carry the start time (facts §13).
  incrementalLayout: 'incrementals-dir-with-start',
  // cloud.WrapErrFileDoesNotExist wording; its release is not settled (reading Q20), v25.2 is a placeholder.
  missingFileText: 'without-path',
  // jobs.Status renamed State (pkg/jobs/update.go).
  jobStateWord: 'state'
}

const V25_3: VersionProfile = {
  ...V25_2,
  name: 'v25.3',
  versionString: build('v25.3.7', '2026/01/09 12:00:00', 'go1.23.12 X:nocoverageredesign'),
  // v25.3.0-beta.1 notes (deprecations): "Removed the 'started' column in SHOW JOBS" (reading Q26).
  showJobsHasStarted: false
}

const V25_4: VersionProfile = {
  ...V25_3,
  name: 'v25.4',
  versionString: build('v25.4.11', '2026/05/29 12:00:00', 'go1.23.12 X:nocoverageredesign'),
  // The session variable appears, on by default (release notes v25.4; PR #158085 turned it off in v26.1).
  allowUnsafeInternals: 'default-on',
  // pkg/backup/backupdest/backup_index.go: every backup writes an index entry (facts §16).
  backupIndex: 'flattened-folder'
}

const V26_1: VersionProfile = {
  ...V25_4,
  name: 'v26.1',
  versionString: build('v26.1.5', '2026/05/29 12:00:00', 'go1.25.5 X:nocoverageredesign'),
  // PR #158085, backward-incompatible change in v26.1: allow_unsafe_internals defaults to false.
  allowUnsafeInternals: 'default-off',
  // PR #158897 (issue #158891, v26.1.0-prerelease): index directories named by descending end time (facts §16).
  backupIndex: 'descending-end-time'
}

const V26_2: VersionProfile = {
  ...V26_1,
  name: 'v26.2',
  versionString: build('v26.2.1', '2026/05/22 12:00:00', 'go1.25.5 X:nocoverageredesign'),
  // PR #160137, #161328: use_backups_with_ids (preview, default off) (facts §1).
  hasUseBackupsWithIds: true,
  // v26.2 cluster-setting changes: backup.index.read.enabled now defaults to true (facts §23).
  readsBackupIndex: true,
  // PR #157790 (v26.2.0-alpha.1 notes): backupresolver.ResolveTargets, no RESTORE-timestamp suffix (reading Q27).
  resolveErrorMentionsRestoreTimestamp: false,
  missingDatabaseCode: '3D000'
}

/**
 * No modelled behaviour changed between v26.2 and v26.3 (facts §14): `use_backups_with_ids` is still a
 * preview to turn on (v26.3 docs; no source read changes its default), and the one backward-incompatible
 * change to RESTORE (non-admins need the RESTORE privilege, PR #170824) concerns privileges, which the
 * emulator does not model.
 */
const V26_3: VersionProfile = {
  ...V26_2,
  name: 'v26.3',
  versionString: build('v26.3.0', '2026/09/01 12:00:00', 'go1.26.2 X:nocoverageredesign')
}

export const PROFILES: Record<ProfileName, VersionProfile> = {
  'v21.1': V21_1,
  'v21.2': V21_2,
  'v22.1': V22_1,
  'v22.2': V22_2,
  'v23.2': V23_2,
  'v24.3': V24_3,
  'v25.2': V25_2,
  'v25.3': V25_3,
  'v25.4': V25_4,
  'v26.1': V26_1,
  'v26.2': V26_2,
  'v26.3': V26_3
}

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[]
