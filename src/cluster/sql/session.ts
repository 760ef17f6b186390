/** The statements every session of the action runs to pin its settings and read the cluster's clock. */

export const SESSION_INFO = 'SELECT current_user, version()'

/**
 * v26.2+: with `use_backups_with_ids` on (a role default or an operator can turn it on), SHOW
 * BACKUPS IN lists `id, backup_time, revision_start_time` instead of `path`. The action turns it
 * off for its own session only.
 */
export const LIST_BACKUPS_BY_PATH = 'SET use_backups_with_ids = false'

/**
 * The gateway's HLC time as a decimal (`<ns>.<logical>`): an ordinary builtin, not an internal table, so not
 * restricted in v26.1+, and allowed in an implicit transaction in every version; v23.2+ refuses it
 * only under READ COMMITTED or REPEATABLE READ isolation (PR #107090; docs/cockroachdb-facts.md),
 * which PIN_ISOLATION rules out.
 */
export const CLUSTER_LOGICAL_TIMESTAMP = 'SELECT cluster_logical_timestamp()'

/**
 * Pinned on every connection the action opens, whatever a role default or the URL's `options` set
 * (docs/cockroachdb-facts.md §5b). A session whose time zone is ahead of UTC creates detached jobs
 * that may never start before v24.1.6 / v24.2.4 / v24.3.0 (cockroach #123207, fixed by PR #123632;
 * not on v23.2), and shows times in that zone. Every version accepts both statements: 'serializable'
 * is a valid default_transaction_isolation from v21.x on (pkg/sql/vars.go).
 */
export const PIN_TIME_ZONE = "SET TIME ZONE 'UTC'"

/** From v23.2 cluster_logical_timestamp() fails (0A000) under READ COMMITTED or REPEATABLE READ (see below). */
export const PIN_ISOLATION = "SET default_transaction_isolation = 'serializable'"

/** The cluster's clock, for finding a job created after this moment. */
export const CLUSTER_NOW = 'SELECT now() AS now'
