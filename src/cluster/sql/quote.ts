/** Quoting: every identifier goes through quoteIdent and every string through quoteLiteral. */
import type { ExplicitAsOf } from '../as-of-system-time.js'
import type { BackupTarget, TableName } from '../targets.js'

/**
 * Words CockroachDB will not read back as bare identifiers: the reserved and lookahead keywords of
 * pkg/sql/lexbase (reserved_keywords.go, predicates.go), plus a few from older releases. Quoting a
 * word that did not need it is harmless, so the list errs on the side of quoting.
 */
const KEYWORDS_NEEDING_QUOTES = new Set(
  `all analyse analyze and annotate_type any array as asc asymmetric authorization between bigint bit
  boolean both box2d case cast char character characteristics check coalesce
  cockroachdb_extra_reserved_keyword collate collation column concurrently constraint create cross
  current_catalog current_date current_role current_schema current_time current_timestamp
  current_user dec decimal default deferrable desc distinct do else end except exists extract
  extract_duration false family fetch float for foreign from full generated geography geometry
  grant greatest group grouping having if iferror ifnull ilike in index initially inner int integer
  intersect interval into is iserror isnull join lateral leading least left like limit localtime
  localtimestamp natural none not nothing notnull null nullif numeric of off offset on only or order
  ordinality out outer overlaps overlay placing point polygon position precision primary real
  references reset returning right role row select session_user set similar smallint some string
  substring symmetric table tenant then time timestamp timestamptz timetz to trailing treat trim true
  union unique user using values varbit varchar variadic virtual when where window with work`.split(/\s+/)
)

/** lexbase.IsBareIdentifier, restricted to ASCII (anything else is simply quoted). */
const BARE_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/

function assertNoNul(value: string): void {
  // The wire protocol cannot carry NUL inside a statement; inputs are validated long before this.
  if (value.includes('\0')) throw new Error('a NUL character cannot be sent in SQL text')
}

/** An identifier exactly as written: bare when CockroachDB would read it back unchanged, quoted otherwise. */
export function quoteIdent(name: string): string {
  assertNoNul(name)
  if (BARE_IDENTIFIER.test(name) && !KEYWORDS_NEEDING_QUOTES.has(name)) return name
  return `"${name.replaceAll('"', '""')}"`
}

/** A standard SQL string literal (standard_conforming_strings is always on in CockroachDB). */
export function quoteLiteral(value: string): string {
  assertNoNul(value)
  return `'${value.replaceAll("'", "''")}'`
}

export function qualifiedTableName(table: TableName): string {
  return table.parts.map(part => (part === '*' ? '*' : quoteIdent(part))).join('.')
}

export function targetList(target: BackupTarget): string {
  return target.kind === 'databases'
    ? `DATABASE ${target.databases.map(quoteIdent).join(', ')}`
    : `TABLE ${target.tables.map(qualifiedTableName).join(', ')}`
}

export function asOfClause(asOf: ExplicitAsOf): string {
  return asOf.kind === 'follower-read' ? 'follower_read_timestamp()' : quoteLiteral(asOf.value)
}
