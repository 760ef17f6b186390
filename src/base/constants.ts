/** Input names, spelled once: they must match action.yml. */
export enum Inputs {
  ConnectionString = 'connection-string',
  Database = 'database',
  Tables = 'tables',
  Collection = 'collection',
  AsOfSystemTime = 'as-of-system-time',
  MaxClockOffset = 'max-clock-offset',
  Subdirectory = 'subdirectory',
  Incremental = 'incremental',
  FullEvery = 'full-every',
  RevisionHistory = 'revision-history',
  EncryptionPassphrase = 'encryption-passphrase',
  WaitTimeout = 'wait-timeout',
  Timeout = 'timeout',
  Container = 'container',
  CaCert = 'ca-cert',
  ClientCert = 'client-cert',
  ClientKey = 'client-key',
  DownloadPath = 'download-path',
  DownloadConnections = 'download-connections',
  KeepBackups = 'keep-backups',
  VerifyRestore = 'verify-restore'
}

/** Output names, spelled once: they must match action.yml. */
export enum Outputs {
  BackupPath = 'backup-path',
  Collection = 'collection',
  JobId = 'job-id',
  Rows = 'rows',
  Bytes = 'bytes',
  EndTime = 'end-time',
  BackupType = 'backup-type',
  RestoreStatement = 'restore-statement',
  DownloadPath = 'download-path',
  Files = 'files',
  DownloadedBytes = 'downloaded-bytes',
  DeletedBackups = 'deleted-backups',
  Verified = 'verified'
}

export const DEFAULT_CONNECTION_STRING = 'postgresql://root@localhost:26257/defaultdb?sslmode=disable'
export const DEFAULT_AS_OF_SYSTEM_TIME = 'step-start'
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 60
export const DEFAULT_TIMEOUT_SECONDS = 3600
export const DEFAULT_DOWNLOAD_CONNECTIONS = 4
/** Each connection is one more session on the cluster; past a few, the runner's disk and CPU are the limit. */
export const MAX_DOWNLOAD_CONNECTIONS = 16
/** CockroachDB's default `--max-offset` (pkg/cli/cliflags MaxOffset; base.DefaultMaxClockOffset). */
export const DEFAULT_MAX_CLOCK_OFFSET_SECONDS = 0.5
export const APPLICATION_NAME = 'cockroach-userfile-backup-action'

/** Inputs only the restore companion (restore/action.yml) has; the rest are shared with Inputs. */
export enum RestoreInputs {
  BackupPath = 'backup-path',
  SourcePath = 'source-path',
  NewDbName = 'new-db-name',
  DropExisting = 'drop-existing',
  AsOfSystemTime = 'as-of-system-time'
}

export enum RestoreOutputs {
  JobId = 'job-id',
  RestoredTables = 'restored-tables',
  Rows = 'rows',
  UploadedFiles = 'uploaded-files',
  RestoredAsOf = 'restored-as-of'
}
