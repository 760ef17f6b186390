/**
 * CockroachDB's errors as values with their SQLSTATE. Most backup errors are plain Go errors
 * (`errors.Newf`, `fmt.Errorf`), which CockroachDB reports as XXUUU ("uncategorized").
 * Texts come from docs/cockroachdb-facts.md unless a comment names another source.
 */

export const SQLSTATE = {
  uncategorized: 'XXUUU',
  syntax: '42601',
  undefinedColumn: '42703',
  undefinedFile: '58P01',
  invalidPassword: '28P01',
  invalidTextRepresentation: '22P02',
  featureNotSupported: '0A000',
  insufficientPrivilege: '42501',
  undefinedObject: '42704',
  licenceRequired: 'XXC02'
} as const

export class CrdbError extends Error {
  constructor(
    message: string,
    readonly code: string = SQLSTATE.uncategorized,
    readonly detail?: string,
    readonly hint?: string
  ) {
    super(message)
    this.name = 'CrdbError'
  }

  /** `errors.Wrap(err, prefix)`: the prefix in front, the code kept. */
  wrap(prefix: string): CrdbError {
    return new CrdbError(`${prefix}: ${this.message}`, this.code, this.detail, this.hint)
  }
}

/** pkg/sql/parser: `at or near "<token>": syntax error`. String literals are never echoed (they may hold secrets). */
export function syntaxError(near: string): CrdbError {
  return new CrdbError(`at or near "${near}": syntax error`, SQLSTATE.syntax)
}

/**
 * A syntax error at the statement's last token, with the detail CockroachDB's lexer adds
 * (pkg/sql/parser/lexer.go, populateErrorDetails): `source SQL:`, the statement up to the end of
 * that token's line, and a caret under the token. String literals, secrets included, are echoed.
 */
export function echoingSyntaxError(sql: string): CrdbError {
  const lastToken = /(\S+)\s*$/.exec(sql)
  const position = lastToken?.index ?? 0
  const lineStart = sql.lastIndexOf('\n', position) + 1
  return new CrdbError(
    `at or near "${(lastToken?.[1] ?? '').toLowerCase()}": syntax error`,
    '42601',
    `source SQL:\n${sql}\n${' '.repeat(position - lineStart)}^`
  )
}

export function passwordFailed(user: string): CrdbError {
  return new CrdbError(`password authentication failed for user ${user}`, SQLSTATE.invalidPassword)
}

/** pkg/jobs/jobs.go JobNotFoundError. */
export function jobNotFound(id: string): CrdbError {
  return new CrdbError(`job with ID ${id} does not exist`)
}

/** pkg/jobs/update.go CancelRequested: `job with status|state <s> cannot be requested to be canceled`. */
export function cannotCancel(word: 'status' | 'state', status: string): CrdbError {
  return new CrdbError(`job with ${word} ${status} cannot be requested to be canceled`)
}

/** pkg/jobs errJobCanceled: what a non-detached BACKUP returns when its job is canceled. */
export function jobCanceledByUser(): CrdbError {
  return new CrdbError('job canceled by user')
}

export function undefinedColumn(name: string): CrdbError {
  return new CrdbError(`column "${name}" does not exist`, SQLSTATE.undefinedColumn)
}

export function invalidInt(text: string): CrdbError {
  return new CrdbError(
    `could not parse "${text}" as type int: strconv.ParseInt: parsing "${text}": invalid syntax`,
    SQLSTATE.invalidTextRepresentation
  )
}

/** PR #158085 (v26.1): what an ordinary session gets for crdb_internal or system (project reference, first block). */
export function internalsRestricted(): CrdbError {
  return new CrdbError(
    'Access to crdb_internal and system is restricted.',
    SQLSTATE.insufficientPrivilege,
    undefined,
    'These interfaces are unsupported in production. To proceed, set the session variable allow_unsafe_internals = true (not recommended), or contact Cockroach Labs for a supported alternative.'
  )
}

/** pkg/sql/vars.go: SET of a variable this version does not have. */
export function unknownVariable(name: string): CrdbError {
  return new CrdbError(`unrecognized configuration parameter "${name}"`, SQLSTATE.undefinedObject)
}

/** pkg/ccl/utilccl/license_check.go CheckEnterpriseEnabled, with the feature as backup_planning.go names it. */
export function licenceRequired(feature: string): CrdbError {
  return new CrdbError(
    `use of BACKUP with ${feature} requires an enterprise license. see https://cockroachlabs.com/pricing?cluster=00000000-0000-0000-0000-000000000000 for details on how to enable enterprise features`,
    SQLSTATE.licenceRequired
  )
}
