/**
 * CockroachDB versions the emulator can play. Every behaviour that differs between versions is a
 * named field here, so the rest of the emulator asks "does this version do X?" and never compares
 * version numbers. Sources are in docs/cockroachdb-facts.md (section numbers in the comments).
 */

export type ProfileName = 'v21.1' | 'v21.2' | 'v22.2' | 'v23.2' | 'v24.3' | 'v25.2'

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
  /** v22.1+: the destination (LATEST, subdir) is resolved inside the job, so a detached BACKUP reports those errors in the job. */
  destinationResolvedInJob: boolean
  /** v22.1+ keeps `INTO 'LATEST' IN` in the description; v21.x writes the resolved folder. */
  descriptionKeepsLatest: boolean
  /** v22.2+ prints `revision_history = true`; v21.x prints the bare flag. */
  revisionHistoryIsExpression: boolean
  /** Where incremental layers go (facts §13). */
  incrementalLayout: 'inside-full' | 'incrementals-dir' | 'incrementals-dir-with-start'
  /** Which LATEST files a backup writes (facts §12; the end of the root file is unconfirmed). */
  latestFiles: { root: boolean; metadataDir: boolean }
  /** The target-resolution error ends with `, or invalid RESTORE timestamp: …` (v21.2-era and later). */
  resolveErrorMentionsRestoreTimestamp: boolean
  /** `BACKUP-STATISTICS` is written (v21.x+). */
  writesStatistics: boolean
  /** Default GC TTL: 25 h before v23.1, 4 h on fresh v23.1+ clusters. */
  gcTtlSeconds: number

  // SHOW BACKUP (facts §2)
  showBackupTimestampType: 'TIMESTAMP' | 'TIMESTAMPTZ'
  showBackupHasRegions: boolean
  /** `WITH check_files` and its `file_bytes` column (v22.1+, PR #80491). */
  supportsCheckFiles: boolean
  /** `SHOW BACKUP FROM '<subdir>' IN …` (v22.1+, PR #78427). */
  supportsShowBackupFrom: boolean
  /** How a missing file is reported by userfile storage (older and newest wording). */
  missingFileText: 'with-path' | 'without-path'

  // Jobs (facts §5; pkg/sql/delegate/show_jobs.go)
  jobsTimestampType: 'TIMESTAMP' | 'TIMESTAMPTZ'
  /** SHOW JOB adds trace_id, last_run, next_run, num_runs, execution_errors (present in the v23.x show_jobs.go). */
  showJobHasExecutionColumns: boolean
  /** The word in `job with status|state X cannot be requested to be canceled` (Status was renamed State in newest code). */
  jobStateWord: 'status' | 'state'
}

const COMMON = { serverVersion: '13.0.0', writesStatistics: true } as const

function build(tag: string, date: string, go: string): string {
  return `CockroachDB CCL ${tag} (x86_64-pc-linux-gnu, built ${date}, ${go})`
}

export const PROFILES: Record<ProfileName, VersionProfile> = {
  'v21.1': {
    ...COMMON,
    name: 'v21.1',
    versionString: build('v21.1.6', '2021/07/20 15:30:39', 'go1.15.11'),
    listingNeedsLeadingSlash: false,
    listingStripsLeadingSlash: true,
    backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes',
    subdirectoryAppendsOnly: false,
    destinationResolvedInJob: false,
    descriptionKeepsLatest: false,
    revisionHistoryIsExpression: false,
    incrementalLayout: 'inside-full',
    latestFiles: { root: true, metadataDir: false },
    resolveErrorMentionsRestoreTimestamp: false,
    gcTtlSeconds: 25 * 3600,
    showBackupTimestampType: 'TIMESTAMP',
    showBackupHasRegions: false,
    supportsCheckFiles: false,
    supportsShowBackupFrom: false,
    missingFileText: 'with-path',
    jobsTimestampType: 'TIMESTAMP',
    showJobHasExecutionColumns: false,
    jobStateWord: 'status'
  },
  'v21.2': {
    ...COMMON,
    name: 'v21.2',
    // An early v21.2 patch: before the #80510 backport, so the storage root lists nothing.
    versionString: build('v21.2.3', '2021/12/14 15:26:24', 'go1.16.6'),
    listingNeedsLeadingSlash: true,
    listingStripsLeadingSlash: false,
    backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes',
    subdirectoryAppendsOnly: false,
    destinationResolvedInJob: false,
    descriptionKeepsLatest: false,
    revisionHistoryIsExpression: false,
    incrementalLayout: 'inside-full',
    latestFiles: { root: true, metadataDir: false },
    resolveErrorMentionsRestoreTimestamp: true,
    gcTtlSeconds: 25 * 3600,
    showBackupTimestampType: 'TIMESTAMP',
    showBackupHasRegions: false,
    supportsCheckFiles: false,
    supportsShowBackupFrom: false,
    missingFileText: 'with-path',
    jobsTimestampType: 'TIMESTAMP',
    showJobHasExecutionColumns: false,
    jobStateWord: 'status'
  },
  'v22.2': {
    ...COMMON,
    name: 'v22.2',
    versionString: build('v22.2.19', '2024/02/12 19:10:31', 'go1.19.13'),
    listingNeedsLeadingSlash: false,
    listingStripsLeadingSlash: false,
    backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes',
    subdirectoryAppendsOnly: true,
    destinationResolvedInJob: true,
    descriptionKeepsLatest: true,
    revisionHistoryIsExpression: true,
    incrementalLayout: 'incrementals-dir',
    latestFiles: { root: true, metadataDir: true },
    resolveErrorMentionsRestoreTimestamp: true,
    gcTtlSeconds: 25 * 3600,
    showBackupTimestampType: 'TIMESTAMP',
    showBackupHasRegions: false,
    supportsCheckFiles: true,
    supportsShowBackupFrom: true,
    missingFileText: 'with-path',
    jobsTimestampType: 'TIMESTAMP',
    showJobHasExecutionColumns: true,
    jobStateWord: 'status'
  },
  'v23.2': {
    ...COMMON,
    name: 'v23.2',
    versionString: build('v23.2.4', '2024/04/08 22:23:28', 'go1.21.8 X:nocoverageredesign'),
    listingNeedsLeadingSlash: false,
    listingStripsLeadingSlash: false,
    backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes',
    subdirectoryAppendsOnly: true,
    destinationResolvedInJob: true,
    descriptionKeepsLatest: true,
    revisionHistoryIsExpression: true,
    incrementalLayout: 'incrementals-dir',
    latestFiles: { root: true, metadataDir: true },
    resolveErrorMentionsRestoreTimestamp: true,
    gcTtlSeconds: 4 * 3600,
    showBackupTimestampType: 'TIMESTAMPTZ',
    showBackupHasRegions: true,
    supportsCheckFiles: true,
    supportsShowBackupFrom: true,
    missingFileText: 'with-path',
    jobsTimestampType: 'TIMESTAMPTZ',
    showJobHasExecutionColumns: true,
    jobStateWord: 'status'
  },
  'v24.3': {
    ...COMMON,
    name: 'v24.3',
    versionString: build('v24.3.5', '2025/02/10 17:42:12', 'go1.22.8 X:nocoverageredesign'),
    listingNeedsLeadingSlash: false,
    listingStripsLeadingSlash: false,
    backupResultColumns: 'job_id,status,fraction_completed,rows,index_entries,bytes',
    subdirectoryAppendsOnly: true,
    destinationResolvedInJob: true,
    descriptionKeepsLatest: true,
    revisionHistoryIsExpression: true,
    incrementalLayout: 'incrementals-dir',
    latestFiles: { root: true, metadataDir: true },
    resolveErrorMentionsRestoreTimestamp: true,
    gcTtlSeconds: 4 * 3600,
    showBackupTimestampType: 'TIMESTAMPTZ',
    showBackupHasRegions: true,
    supportsCheckFiles: true,
    supportsShowBackupFrom: true,
    missingFileText: 'with-path',
    jobsTimestampType: 'TIMESTAMPTZ',
    showJobHasExecutionColumns: true,
    jobStateWord: 'status'
  },
  'v25.2': {
    ...COMMON,
    name: 'v25.2',
    versionString: build('v25.2.2', '2025/06/26 14:18:05', 'go1.23.7 X:nocoverageredesign'),
    listingNeedsLeadingSlash: false,
    listingStripsLeadingSlash: false,
    backupResultColumns: 'job_id,status,fraction_completed,rows',
    subdirectoryAppendsOnly: true,
    destinationResolvedInJob: true,
    descriptionKeepsLatest: true,
    revisionHistoryIsExpression: true,
    incrementalLayout: 'incrementals-dir-with-start',
    latestFiles: { root: false, metadataDir: true },
    resolveErrorMentionsRestoreTimestamp: true,
    gcTtlSeconds: 4 * 3600,
    showBackupTimestampType: 'TIMESTAMPTZ',
    showBackupHasRegions: true,
    supportsCheckFiles: true,
    supportsShowBackupFrom: true,
    missingFileText: 'without-path',
    jobsTimestampType: 'TIMESTAMPTZ',
    showJobHasExecutionColumns: true,
    jobStateWord: 'state'
  }
}

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[]
