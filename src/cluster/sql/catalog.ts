/** Databases, tables and row counts. */
import { quoteIdent, quoteLiteral } from './quote.js'

/**
 * DROP sees every database, whatever the user's CONNECT privilege; SHOW DATABASES lists only those
 * with CONNECT from v22.2 (pkg/sql/delegate/show_databases.go), so it cannot tell what RESTORE sees.
 */
export function dropDatabaseIfExists(name: string): string {
  return `DROP DATABASE IF EXISTS ${quoteIdent(name)} CASCADE`
}

/**
 * One statement, one implicit transaction. Refused (2BP01) while a view or function depends on one
 * of the database's tables, and (42P04) when the new name is taken (pkg/sql/rename_database.go).
 */
export function renameDatabase(name: string, newName: string): string {
  return `ALTER DATABASE ${quoteIdent(name)} RENAME TO ${quoteIdent(newName)}`
}

/** Only to explain an error: from v22.2 SHOW DATABASES hides databases the user has no CONNECT on. */
export const DATABASE_EXISTS = 'SELECT database_name FROM [SHOW DATABASES] WHERE database_name = $1'

/** Every database the session can see, for a failure's hint; delegated, so allowed on v26.1+ (facts §15). */
export const LIST_DATABASES = 'SELECT database_name FROM [SHOW DATABASES]'

/** Every table of one database, in every schema, for a failure's hint; delegated, so allowed on v26.1+. */
export function listTables(database: string): string {
  return `SELECT schema_name, table_name FROM [SHOW TABLES FROM ${quoteIdent(database)}]`
}

/** SHOW TABLES' `table_name` column is the same in every version (pkg/sql/delegate/show_tables.go). */
export function tableExists(database: string, schema: string): string {
  return `SELECT table_name FROM [SHOW TABLES FROM ${quoteIdent(database)}.${quoteIdent(schema)}] WHERE table_name = $1`
}

export function createDatabase(name: string): string {
  return `CREATE DATABASE ${quoteIdent(name)}`
}

/** The rows of one table, named in full so the session's database does not matter. */
export function countRows(database: string, schema: string, table: string): string {
  return `SELECT count(*) AS count FROM ${[database, schema, table].map(quoteIdent).join('.')}`
}

/**
 * What each relation of one schema is: SHOW TABLES' `type` is `table`, `view`, `materialized view`
 * or `sequence` (pkg/sql/delegate/show_tables.go); a delegated statement, allowed on v26.1+.
 */
export function relationKinds(database: string, schema: string): string {
  return `SELECT table_name, type FROM [SHOW TABLES FROM ${quoteIdent(database)}.${quoteIdent(schema)}]`
}

/** The rows of one table as a read at `asOf` (a decimal HLC or timestamp literal) sees them. */
export function countRowsAsOf(database: string, schema: string, table: string, asOf: string): string {
  return `${countRows(database, schema, table)} AS OF SYSTEM TIME ${quoteLiteral(asOf)}`
}
