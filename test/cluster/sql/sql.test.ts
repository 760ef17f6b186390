/**
 * src/cluster/sql/: quoting and the statement builders. Beyond exact strings, every BACKUP statement is
 * read back with an independent tokenizer (test/support/sql-tokenizer.ts) to prove that hostile
 * names, URIs, passphrases and AS OF values stay inside their identifiers and literals.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AsOfSystemTime, ExplicitAsOf } from '../../../src/cluster/as-of-system-time.js'
import type { BackupTime } from '../../../src/backup/backup-time.js'
import { planBackup } from '../../../src/backup/plan.js'
import { InputError } from '../../../src/base/errors.js'
import { getInputs, type ActionInputs } from '../../../src/backup/inputs.js'
import * as sql from '../../../src/cluster/sql/index.js'
import { redactStatement } from '../../../src/cluster/redact-statement.js'
import type { BackupTarget } from '../../../src/cluster/targets.js'
import { SqlSyntaxError, tokenize, type Token } from '../../support/sql-tokenizer.js'
import { parseBackup, Reader, RESERVED, type ParsedBackup } from '../../support/backup-reader.js'

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'

/** What backup-time.ts settles on once connected: step-start becomes a decimal HLC timestamp, the rest stay as given. */
function settled(requested: AsOfSystemTime | undefined): BackupTime {
  const asOf: ExplicitAsOf | undefined =
    requested?.kind === 'step-start' ? { kind: 'hlc', value: '1764410404012000000.0000000000' } : requested
  return { requested, asOf, stepStart: { wallNs: 1764410403512000000n, logical: 0n }, waitedMs: 0, reason: '', headline: '' }
}
const MINUS_10S: ExplicitAsOf = { kind: 'interval', value: '-10s' }

function options(overrides: Partial<sql.BackupStatementOptions> = {}): sql.BackupStatementOptions {
  return {
    target: { kind: 'databases', databases: ['bank'] },
    collection: COLLECTION,
    destination: { kind: 'new' },
    asOf: MINUS_10S,
    revisionHistory: false,
    encryptionPassphrase: undefined,
    ...overrides
  }
}

// ---------------------------------------------------------------------------------------------
// A reader for the BACKUP statements the builder makes, on top of the tokenizer.

type Destination = sql.BackupStatementOptions['destination']

/** What parseBackup should read back from a statement built with these options. */
function expected(o: sql.BackupStatementOptions, passphraseAs?: string): ParsedBackup {
  const asOf: ParsedBackup['asOf'] =
    o.asOf === undefined
      ? undefined
      : o.asOf.kind === 'follower-read'
        ? { kind: 'follower-read' }
        : { kind: 'literal', value: o.asOf.value }
  return {
    target:
      o.target.kind === 'databases'
        ? { kind: 'databases', names: o.target.databases }
        : { kind: 'tables', names: o.target.tables.map(t => t.parts) },
    destination: o.destination,
    collection: o.collection,
    asOf,
    options: [
      { name: 'detached' },
      ...(o.revisionHistory ? [{ name: 'revision_history' }] : []),
      ...(o.encryptionPassphrase === undefined ? [] : [{ name: 'encryption_passphrase', value: passphraseAs ?? o.encryptionPassphrase }])
    ]
  }
}

/** No statement separator and no comment anywhere outside a literal or quoted identifier. */
function expectOneStatement(statement: string): Token[] {
  const tokens = tokenize(statement)
  expect(tokens.filter(t => t.kind === 'punctuation' && t.text === ';')).toEqual([])
  expect(tokens.filter(t => t.kind === 'line-comment' || t.kind === 'block-comment' || t.kind === 'prefixed-string')).toEqual([])
  return tokens
}

function literals(tokens: Token[]): string[] {
  return tokens.flatMap(t => (t.kind === 'string' ? [t.value] : []))
}

// ---------------------------------------------------------------------------------------------

describe('the test tokenizer', () => {
  it('reads quoted identifiers and literals with doubled quotes, and keeps backslashes', () => {
    expect(tokenize(`SELECT "a""b", 'it''s \\n' -- c\n/* x /* y */ z */;`)).toEqual([
      { kind: 'word', text: 'SELECT', value: 'select' },
      { kind: 'identifier', text: '"a""b"', value: 'a"b' },
      { kind: 'punctuation', text: ',' },
      { kind: 'string', text: `'it''s \\n'`, value: "it's \\n" },
      { kind: 'line-comment', text: '-- c' },
      { kind: 'block-comment', text: '/* x /* y */ z */' },
      { kind: 'punctuation', text: ';' }
    ])
  })

  it('catches naive string building (so the checks below can fail)', () => {
    const naive = `BACKUP DATABASE bank INTO 'x'; DROP DATABASE bank; --'`
    expect(() => parseBackup(naive)).toThrow()
    expect(tokenize(naive).some(t => t.kind === 'line-comment')).toBe(true)
    expect(() => tokenize(`SELECT 'unterminated`)).toThrow(SqlSyntaxError)
    expect(tokenize(`SELECT e'x'`).map(t => t.kind)).toEqual(['word', 'prefixed-string'])
    expect(() => parseBackup("BACKUP DATABASE select INTO 'c'")).toThrow(/would not read back/)
    expect(() => parseBackup("BACKUP DATABASE Bank INTO 'c'")).toThrow(/would not read back/)
  })
})

describe('quoteIdent', () => {
  it.each([
    ['bank', 'bank'],
    ['_private', '_private'],
    ['my_db2', 'my_db2'],
    ['price$', 'price$'],
    ['a$b$c', 'a$b$c']
  ])('leaves the plain lower-case name %j bare', (name, quoted) => {
    expect(sql.quoteIdent(name)).toBe(quoted)
  })

  it.each([
    ['Bank', '"Bank"'],
    ['BANK', '"BANK"'],
    ['select', '"select"'],
    ['user', '"user"'],
    ['table', '"table"'],
    ['a"b', '"a""b"'],
    ['"', '""""'],
    ['my db', '"my db"'],
    ['a.b', '"a.b"'],
    ['café', '"café"'],
    ['日本', '"日本"'],
    ['1bank', '"1bank"'],
    ['$x', '"$x"'],
    ['a-b', '"a-b"'],
    ['', '""']
  ])('quotes %j', (name, quoted) => {
    expect(sql.quoteIdent(name)).toBe(quoted)
  })

  it('quotes every reserved and lookahead keyword CockroachDB lists', () => {
    const bare = [...RESERVED].filter(word => sql.quoteIdent(word) === word)
    expect(bare).toEqual([])
  })

  it('leaves non-reserved keywords that are valid identifiers bare', () => {
    expect(sql.quoteIdent('backup')).toBe('backup')
    expect(sql.quoteIdent('database')).toBe('database')
  })

  it('refuses NUL', () => {
    expect(() => sql.quoteIdent('a\0b')).toThrow(/NUL/)
  })
})

describe('quoteLiteral', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ['a\\b', "'a\\b'"],
    ["\\'", "'\\'''"],
    ['line\nbreak', "'line\nbreak'"],
    ['$$', "'$$'"],
    ['a; DROP TABLE t', "'a; DROP TABLE t'"],
    ['-- comment', "'-- comment'"],
    ['/* comment', "'/* comment'"],
    ['', "''"]
  ])('quotes %j with only quotes doubled', (value, quoted) => {
    expect(sql.quoteLiteral(value)).toBe(quoted)
  })

  it('refuses NUL', () => {
    expect(() => sql.quoteLiteral('a\0')).toThrow(/NUL/)
  })
})

describe('backup', () => {
  it('builds a new full backup of a database', () => {
    expect(sql.backup(options())).toBe(`BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`)
  })

  it('appends to LATEST', () => {
    expect(sql.backup(options({ destination: { kind: 'latest' } }))).toBe(
      `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
    )
  })

  it('writes into a named subdirectory', () => {
    expect(sql.backup(options({ destination: { kind: 'subdirectory', name: 'release-42' } }))).toBe(
      `BACKUP DATABASE bank INTO 'release-42' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
    )
  })

  it('lists several databases and tables, quoting where needed and keeping * bare', () => {
    expect(sql.backup(options({ target: { kind: 'databases', databases: ['bank', 'My DB', 'user'] } }))).toMatch(
      /^BACKUP DATABASE bank, "My DB", "user" INTO /
    )
    const tables: BackupTarget = {
      kind: 'tables',
      tables: [{ parts: ['bank', 'public', 'accounts'] }, { parts: ['shop', '*'] }, { parts: ['My DB', 'a.b', 'Orders'] }]
    }
    expect(sql.backup(options({ target: tables }))).toMatch(
      /^BACKUP TABLE bank\.public\.accounts, shop\.\*, "My DB"\."a\.b"\."Orders" INTO /
    )
  })

  it.each<[ExplicitAsOf | undefined, string]>([
    [{ kind: 'interval', value: '-1m30s' }, ` AS OF SYSTEM TIME '-1m30s'`],
    [{ kind: 'timestamp', value: '2024-05-07 14:10:12.34' }, ` AS OF SYSTEM TIME '2024-05-07 14:10:12.34'`],
    [{ kind: 'hlc', value: '1715091012340000000.0000000000' }, ` AS OF SYSTEM TIME '1715091012340000000.0000000000'`],
    [{ kind: 'follower-read' }, ' AS OF SYSTEM TIME follower_read_timestamp()'],
    [undefined, '']
  ])('writes AS OF SYSTEM TIME for %j', (asOf, clause) => {
    expect(sql.backup(options({ asOf }))).toBe(`BACKUP DATABASE bank INTO '${COLLECTION}'${clause} WITH detached`)
  })

  it('orders the options detached, revision_history, encryption_passphrase', () => {
    expect(sql.backup(options({ revisionHistory: true, encryptionPassphrase: "s3cr'et" }))).toMatch(
      / WITH detached, revision_history, encryption_passphrase = 's3cr''et'$/
    )
    expect(sql.backup(options({ encryptionPassphrase: 'pw' }))).toMatch(/ WITH detached, encryption_passphrase = 'pw'$/)
    expect(sql.backup(options({ revisionHistory: true }))).toMatch(/ WITH detached, revision_history$/)
  })

  it('never puts the passphrase in the redacted form', () => {
    const passphrase = 'Tr0ub4dor&3-unique'
    const redacted = sql.backup(options({ revisionHistory: true, encryptionPassphrase: passphrase }), true)
    expect(redacted).not.toContain(passphrase)
    expect(redacted).toMatch(/ WITH detached, revision_history, encryption_passphrase = 'redacted'$/)
    expect(sql.backup(options({ encryptionPassphrase: passphrase }), false)).toContain(`'${passphrase}'`)
  })
})

describe('showBackups, showBackup, cancelJob, restore', () => {
  it('lists a collection', () => {
    expect(sql.showBackups("userfile:///it's")).toBe("SHOW BACKUPS IN 'userfile:///it''s'")
  })

  it('shows one backup, with check_files and the passphrase when asked', () => {
    const path = '/2024/05/07-141012.34'
    expect(sql.showBackup(path, COLLECTION, { checkFiles: false, encryptionPassphrase: undefined })).toBe(
      `SHOW BACKUP '${path}' IN '${COLLECTION}'`
    )
    expect(sql.showBackup(path, COLLECTION, { checkFiles: true, encryptionPassphrase: undefined })).toBe(
      `SHOW BACKUP '${path}' IN '${COLLECTION}' WITH check_files`
    )
    expect(sql.showBackup(path, COLLECTION, { checkFiles: true, encryptionPassphrase: "p'w" })).toBe(
      `SHOW BACKUP '${path}' IN '${COLLECTION}' WITH check_files, encryption_passphrase = 'p''w'`
    )
    expect(sql.showBackup(path, COLLECTION, { checkFiles: false, encryptionPassphrase: 'pw' })).toBe(
      `SHOW BACKUP '${path}' IN '${COLLECTION}' WITH encryption_passphrase = 'pw'`
    )
    const redacted = sql.showBackup(path, COLLECTION, { checkFiles: true, encryptionPassphrase: 'very-secret-pw' }, true)
    expect(redacted).not.toContain('very-secret-pw')
    expect(redacted).toMatch(/encryption_passphrase = 'redacted'$/)
  })

  it('cancels a job by its numeric id, including ids beyond 2^53', () => {
    expect(sql.cancelJob('123')).toBe('CANCEL JOB 123')
    expect(sql.cancelJob('9223372036854775807')).toBe('CANCEL JOB 9223372036854775807')
  })

  it.each(['', 'abc', '-1', '1; DROP DATABASE bank', '1 ', ' 1', '1\n', '0x10', '1e3', '1.5', '123456789012345678901'])(
    'refuses the job id %j',
    id => {
      expect(() => sql.cancelJob(id)).toThrow(/not a job id/)
      expect(() => sql.jobStatus(id)).toThrow(/not a job id/)
    }
  )

  it('reads a job through SHOW JOB, never crdb_internal or system (refused from v26.1)', () => {
    expect(sql.jobStatus('9223372036854775807')).toBe(
      'SELECT status, fraction_completed, error, description FROM [SHOW JOB 9223372036854775807]'
    )
    expect(sql.jobStatus('1')).not.toMatch(/crdb_internal|system\./)
  })

  it('restores databases and tables, with a placeholder (never the passphrase) when encrypted', () => {
    const path = '/2024/05/07-141012.34'
    expect(sql.restore({ kind: 'databases', databases: ['bank', 'My DB'] }, path, COLLECTION, false)).toBe(
      `RESTORE DATABASE bank, "My DB" FROM '${path}' IN '${COLLECTION}'`
    )
    expect(
      sql.restore({ kind: 'tables', tables: [{ parts: ['bank', 'public', 'accounts'] }, { parts: ['bank', '*'] }] }, path, COLLECTION, true)
    ).toBe(
      `RESTORE TABLE bank.public.accounts, bank.* FROM '${path}' IN '${COLLECTION}' WITH encryption_passphrase = '<encryption-passphrase>'`
    )
  })
})

describe('userfile reads', () => {
  const FILES = 'defaultdb.public.userfiles_root_upload_files'
  const PAYLOAD = 'defaultdb.public.userfiles_root_upload_payload'

  it('passes the filename prefix and file id as bind parameters, never in the text', () => {
    expect(sql.listUserfiles(FILES)).toBe(`SELECT filename, file_id, file_size FROM ${FILES} WHERE filename LIKE $1 ORDER BY filename`)
    expect(sql.readUserfileChunks(PAYLOAD)).toBe(`SELECT byte_offset, payload FROM ${PAYLOAD} WHERE file_id = $1 ORDER BY byte_offset`)
  })

  it('deletes a folder with the LIKE pattern as a bind parameter: chunks first, then file rows', () => {
    expect(sql.deleteUserfilePayloadLike(PAYLOAD, FILES)).toBe(
      `DELETE FROM ${PAYLOAD} WHERE file_id IN (SELECT file_id FROM ${FILES} WHERE filename LIKE $1)`
    )
    expect(sql.deleteUserfilesLike(FILES)).toBe(`DELETE FROM ${FILES} WHERE filename LIKE $1`)
  })
})

describe('drop-existing and upload clean-up statements', () => {
  it('rename a database with both names quoted, and delete files by a UUID array', () => {
    expect(sql.renameDatabase('bank', 'bank_replaced_0a1b2c3d')).toBe('ALTER DATABASE bank RENAME TO bank_replaced_0a1b2c3d')
    expect(sql.renameDatabase('My DB', 'user')).toBe('ALTER DATABASE "My DB" RENAME TO "user"')
    expect(sql.deleteUserfilePayloadOfIds('t_upload_payload')).toBe('DELETE FROM t_upload_payload WHERE file_id = ANY($1::UUID[])')
    expect(sql.deleteUserfilesOfIds('t_upload_files')).toBe('DELETE FROM t_upload_files WHERE file_id = ANY($1::UUID[])')
  })
})

describe('verify-restore statements', () => {
  it('quote the scratch database and every part of a counted table', () => {
    expect(sql.createDatabase('bank_verify_123')).toBe('CREATE DATABASE bank_verify_123')
    expect(sql.dropDatabaseIfExists('My DB_verify_1')).toBe('DROP DATABASE IF EXISTS "My DB_verify_1" CASCADE')
    expect(sql.countRows('bank_verify_1', 'public', 'user')).toBe('SELECT count(*) AS count FROM bank_verify_1.public."user"')
    expect(sql.countRows('a"b', 'sch.ema', 'Orders')).toBe('SELECT count(*) AS count FROM "a""b"."sch.ema"."Orders"')
    expect(sql.countRowsAsOf('bank', 'public', 'user', '1715091012340000000.0000000000')).toBe(
      `SELECT count(*) AS count FROM bank.public."user" AS OF SYSTEM TIME '1715091012340000000.0000000000'`
    )
    expect(sql.relationKinds('bank_verify_1', 'My Schema')).toBe(
      'SELECT table_name, type FROM [SHOW TABLES FROM bank_verify_1."My Schema"]'
    )
    // A failure's hint lists the tables of the database the user named, whatever its name.
    expect(sql.listTables('b"]; DROP DATABASE bank; --')).toBe(
      'SELECT schema_name, table_name FROM [SHOW TABLES FROM "b""]; DROP DATABASE bank; --"]'
    )
  })
})

// ---------------------------------------------------------------------------------------------

const HOSTILE_EXAMPLES = [
  "'",
  "''",
  '"',
  '""',
  "x'; DROP DATABASE bank; --",
  'x"; DROP DATABASE bank; --',
  '\\',
  "\\'",
  "'\\",
  '$$',
  '$1',
  '$tag$ body $tag$',
  ';',
  '--',
  '-- line\nDROP TABLE t',
  '/*',
  '*/',
  '/* x */',
  '\n',
  '\r\n',
  '\t',
  'ünïcødé',
  '日本語',
  '🦀 crab',
  'İstanbul',
  'a\u2028b',
  "e'x'",
  'SELECT',
  'user',
  ' leading and trailing ',
  "'".repeat(10_000),
  '"'.repeat(10_000),
  'x'.repeat(10_000),
  'a\';--"/*\\$$\n'.repeat(800)
]

describe('BACKUP with hostile inputs is one statement that reads back as its inputs', () => {
  it.each(HOSTILE_EXAMPLES.map(value => [value.length > 40 ? `${value.slice(0, 20)}… (${value.length} chars)` : value, value]))(
    '%j',
    (_label, value) => {
      const cases: sql.BackupStatementOptions[] = [
        options({
          target: { kind: 'databases', databases: [value, 'bank'] },
          collection: value,
          destination: { kind: 'subdirectory', name: value }
        }),
        options({
          target: { kind: 'tables', tables: [{ parts: [value, value, value] }, { parts: [value, '*'] }] },
          collection: value,
          destination: { kind: 'latest' },
          asOf: { kind: 'timestamp', value },
          revisionHistory: true,
          encryptionPassphrase: value
        }),
        options({ collection: `userfile:///${value}`, asOf: { kind: 'interval', value }, encryptionPassphrase: value })
      ]
      for (const o of cases) {
        const statement = sql.backup(o)
        expectOneStatement(statement)
        expect(parseBackup(statement)).toEqual(expected(o))
        const redacted = sql.backup(o, true)
        expectOneStatement(redacted)
        expect(parseBackup(redacted)).toEqual(expected(o, 'redacted'))
      }
    }
  )

  it('the verify-restore statements keep hostile database, schema and table names inside their identifiers', () => {
    for (const value of HOSTILE_EXAMPLES) {
      const named = (tokens: Token[]) =>
        tokens.filter(t => t.kind === 'identifier' || (t.kind === 'word' && t.value === value)).map(t => ('value' in t ? t.value : ''))
      const count = expectOneStatement(sql.countRows(value, value, value))
      expect(named(count.slice(count.findIndex(t => t.kind === 'word' && t.value === 'from') + 1))).toEqual([value, value, value])
      expect(named(expectOneStatement(sql.dropDatabaseIfExists(value)))).toEqual([value])
      expect(named(expectOneStatement(sql.createDatabase(value)))).toEqual([value])
      const asOf = expectOneStatement(sql.countRowsAsOf(value, value, value, value))
      expect(literals(asOf)).toEqual([value])
      const aside = `${value}_replaced_1`
      const renamed = expectOneStatement(sql.renameDatabase(value, aside))
      expect(
        renamed
          .filter(t => t.kind === 'identifier' || (t.kind === 'word' && (t.value === value || t.value === aside)))
          .map(t => ('value' in t ? t.value : ''))
      ).toEqual([value, aside])
    }
  })

  it('SHOW BACKUP, SHOW BACKUPS and RESTORE keep hostile paths and URIs inside their literals', () => {
    for (const value of HOSTILE_EXAMPLES) {
      expect(literals(expectOneStatement(sql.showBackups(value)))).toEqual([value])
      expect(literals(expectOneStatement(sql.showBackup(value, value, { checkFiles: true, encryptionPassphrase: value })))).toEqual([
        value,
        value,
        value
      ])
      expect(literals(expectOneStatement(sql.showBackup(value, value, { checkFiles: true, encryptionPassphrase: value }, true)))).toEqual([
        value,
        value,
        'redacted'
      ])
      const restore = expectOneStatement(sql.restore({ kind: 'databases', databases: [value] }, value, value, true))
      expect(new Reader(restore.slice(2, 3)).identifier()).toBe(value)
      expect(literals(restore)).toEqual([value, value, '<encryption-passphrase>'])
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Property-based: the same checks over generated hostile strings.

const HOSTILE_UNITS = [
  "'",
  '"',
  '\\',
  '$',
  ';',
  '-',
  '/',
  '*',
  '.',
  ',',
  '(',
  ')',
  '=',
  ' ',
  '\n',
  '\r',
  '\t',
  '\v',
  '\f',
  'a',
  'z',
  'A',
  'Z',
  '_',
  '0',
  '9',
  'e',
  'E',
  'x',
  'é',
  'ß',
  'İ',
  'ﬁ',
  '日',
  '🦀',
  '\u00a0',
  '\u2028',
  '\u200b',
  '\u0301'
]
const RUNS = { numRuns: 10_000 }

const hostile = fc
  .string({ unit: fc.oneof(fc.constantFrom(...HOSTILE_UNITS), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 30 })
  .map(s => s.replaceAll('\0', ''))
const name = hostile.filter(s => s !== '')
/** Only a table's last part may be `*` (parseTables refuses it elsewhere). */
const namePart = name.filter(s => s !== '*')

const target: fc.Arbitrary<BackupTarget> = fc.oneof(
  fc.array(name, { minLength: 1, maxLength: 3 }).map(databases => ({ kind: 'databases' as const, databases })),
  fc
    .array(
      fc
        .tuple(namePart, fc.option(namePart, { nil: undefined }), fc.oneof(name, fc.constant('*')))
        .map(([db, schema, table]) => ({ parts: schema === undefined ? [db, table] : [db, schema, table] })),
      { minLength: 1, maxLength: 3 }
    )
    .map(tables => ({ kind: 'tables' as const, tables }))
)

const destination: fc.Arbitrary<Destination> = fc.oneof(
  fc.constant({ kind: 'new' as const }),
  fc.constant({ kind: 'latest' as const }),
  hostile.map(n => ({ kind: 'subdirectory' as const, name: n }))
)

const asOf: fc.Arbitrary<ExplicitAsOf | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant({ kind: 'follower-read' as const }),
  fc.tuple(fc.constantFrom('interval' as const, 'timestamp' as const, 'hlc' as const), hostile).map(([kind, value]) => ({ kind, value }))
)

const backupOptions: fc.Arbitrary<sql.BackupStatementOptions> = fc.record({
  target,
  collection: hostile,
  destination,
  asOf,
  revisionHistory: fc.boolean(),
  encryptionPassphrase: fc.option(hostile, { nil: undefined })
})

describe('properties', () => {
  it('quoteIdent gives exactly one name token that decodes to the input', () => {
    fc.assert(
      fc.property(name, n => {
        const tokens = tokenize(sql.quoteIdent(n))
        expect(tokens).toHaveLength(1)
        expect(new Reader(tokens).identifier()).toBe(n)
      }),
      RUNS
    )
  })

  it('quoteLiteral gives exactly one string token that decodes to the input', () => {
    fc.assert(
      fc.property(hostile, value => {
        expect(tokenize(sql.quoteLiteral(value))).toEqual([{ kind: 'string', text: sql.quoteLiteral(value), value }])
      }),
      RUNS
    )
  })

  it('BACKUP is one statement that reads back as its inputs, redacted or not', () => {
    fc.assert(
      fc.property(backupOptions, o => {
        const statement = sql.backup(o)
        expectOneStatement(statement)
        expect(parseBackup(statement)).toEqual(expected(o))
        const redacted = sql.backup(o, true)
        expectOneStatement(redacted)
        expect(parseBackup(redacted)).toEqual(expected(o, 'redacted'))
      }),
      RUNS
    )
  })

  it('SHOW BACKUP keeps its path, collection and passphrase in three literals', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, fc.boolean(), (path, collection, passphrase, checkFiles) => {
        const tokens = expectOneStatement(sql.showBackup(path, collection, { checkFiles, encryptionPassphrase: passphrase }))
        expect(literals(tokens)).toEqual([path, collection, passphrase])
      }),
      RUNS
    )
  })
})

describe('properties from raw inputs to the statement', () => {
  const raw = fc.string({
    unit: fc.oneof(fc.constantFrom(...HOSTILE_UNITS), fc.constantFrom('\0', '"', ',', '.', '*', '\n')),
    maxLength: 40
  })
  const inputs = fc.record({
    useTables: fc.boolean(),
    names: raw,
    collection: fc.oneof(
      { arbitrary: raw, weight: 1 },
      { arbitrary: raw.map(r => `userfile:///${r}`), weight: 3 },
      { arbitrary: raw.map(r => `s3://b/${r}?AWS_SECRET_ACCESS_KEY=${r}`), weight: 2 }
    ),
    asOf: fc.oneof(
      { arbitrary: raw, weight: 1 },
      {
        arbitrary: fc.constantFrom('-10s', 'follower_read_timestamp()', '2024-05-07 14:10:12.34', '1715091012340000000.0000000000'),
        weight: 4
      }
    ),
    subdirectory: fc.oneof(fc.constant(''), raw),
    passphrase: fc.oneof(fc.constant(''), raw)
  })

  it('either refuses an input by name or builds one statement whose parts decode back to the inputs', () => {
    let built = 0
    fc.assert(
      fc.property(inputs, given => {
        const values: Record<string, string> = {
          [given.useTables ? 'tables' : 'database']: given.names,
          collection: given.collection,
          'as-of-system-time': given.asOf,
          subdirectory: given.subdirectory,
          'encryption-passphrase': given.passphrase
        }
        let parsed: ActionInputs
        try {
          parsed = getInputs(
            name => values[name],
            () => undefined
          )
        } catch (error) {
          expect(error).toBeInstanceOf(InputError)
          expect((error as InputError).inputs.some(name => Object.keys(values).includes(name))).toBe(true)
          return
        }
        built++
        const plan = planBackup(parsed, 'root', settled(parsed.asOf))
        const statement = sql.backup(plan)
        expectOneStatement(statement)
        const back = parseBackup(statement)
        expect(back).toEqual(expected(plan))
        if (given.collection.trim() !== '') expect(back.collection).toBe(given.collection.trim())
        else expect(back.collection).toMatch(/^userfile:\/\/defaultdb\.public\.userfiles_root\//)
        if (parsed.encryptionPassphrase !== undefined) expect(back.options.at(-1)?.value).toBe(given.passphrase.trim())
      }),
      RUNS
    )
    expect(built).toBeGreaterThan(RUNS.numRuns / 20) // the property reached the builder, not only the refusals
  })
})

describe('redactStatement (the statement shown in the summary of a failed step)', () => {
  const target: BackupTarget = { kind: 'databases', databases: ['bank'] }
  const backupWith = (collection: string, encryptionPassphrase: string): string =>
    sql.backup({ target, collection, destination: { kind: 'new' }, asOf: undefined, revisionHistory: false, encryptionPassphrase })

  it('replaces the passphrase and the credentials in a storage URI, and leaves the rest as sent', () => {
    const passphrase = 'it\'s a "secret"'
    const collection = 's3://bucket/bank?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=sec%2Fret'
    const shown = redactStatement(backupWith(collection, passphrase))
    expect(shown).toBe(
      "BACKUP DATABASE bank INTO 's3://bucket/bank?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=redacted' WITH detached, encryption_passphrase = 'redacted'"
    )
    expect(shown).not.toContain('sec%2Fret')
    expect(shown).not.toContain("it''s")
  })

  it('agrees with the redacted text the builders make for the log', () => {
    const options = { collection: 'userfile:///bank-backup', encryptionPassphrase: "p'w", checkFiles: true }
    expect(redactStatement(sql.showBackup('/2024/05/07-141012.34', options.collection, options))).toBe(
      sql.showBackup('/2024/05/07-141012.34', options.collection, options, true)
    )
  })

  it('keeps quotes inside identifiers and doubled quotes inside literals apart from the literal that follows', () => {
    const statement = `SHOW BACKUP FROM '/a''b' IN 'userfile:///x' WITH encryption_passphrase = 'x''y'`
    expect(redactStatement(statement)).toBe(`SHOW BACKUP FROM '/a''b' IN 'userfile:///x' WITH encryption_passphrase = 'redacted'`)
    expect(redactStatement(`SELECT "we'ird" FROM t WHERE a = 'b'`)).toBe(`SELECT "we'ird" FROM t WHERE a = 'b'`)
  })

  it('never shows the rest of a literal that does not end', () => {
    expect(redactStatement("SELECT 'unterminated secret")).toBe("SELECT 'redacted'")
  })

  it('redacts every passphrase the property generator makes', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter(s => !s.includes('\0')),
        passphrase => redactStatement(backupWith('userfile:///b', passphrase)) === redactStatement(backupWith('userfile:///b', 'x'))
      )
    )
  })
})
