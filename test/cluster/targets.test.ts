/** src/cluster/targets.ts: the database and tables inputs, split and checked without a server. */
import { describe, expect, it } from 'vitest'
import { Inputs } from '../../src/base/constants.js'
import { expectInputError } from '../support/input-error.js'
import { describeTarget, firstDatabase, parseDatabases, parseTables, splitList, splitQualifiedName } from '../../src/cluster/targets.js'

const inputError = expectInputError

describe('splitList', () => {
  it('splits on commas and every kind of line break, trims, and drops empty items', () => {
    expect(splitList('a, b\nc\r\nd\re')).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(splitList(' ,, a ,\n\n, b ,')).toEqual(['a', 'b'])
    expect(splitList('')).toEqual([])
    expect(splitList(' \n ')).toEqual([])
  })

  it('does not split inside double quotes, and keeps the quotes for the name parser', () => {
    expect(splitList('"a,b", c')).toEqual(['"a,b"', 'c'])
    expect(splitList('"x\ny".t, z')).toEqual(['"x\ny".t', 'z'])
    expect(splitList('"a"",b", c')).toEqual(['"a"",b"', 'c'])
  })
})

describe('splitQualifiedName', () => {
  it.each<[string, string[]]>([
    ['bank', ['bank']],
    ['bank.accounts', ['bank', 'accounts']],
    ['bank.public.accounts', ['bank', 'public', 'accounts']],
    [' bank . accounts ', ['bank', 'accounts']],
    ['"My DB"."a.b"', ['My DB', 'a.b']],
    ['"a""b".c', ['a"b', 'c']],
    ['""""', ['"']],
    ['"a,b"', ['a,b']],
    ['" spaced "', [' spaced ']],
    ['Bank.Accounts', ['Bank', 'Accounts']],
    ['bank.*', ['bank', '*']]
  ])('%j → %j', (text, parts) => {
    expect(splitQualifiedName(Inputs.Tables, text)).toEqual(parts)
  })

  it.each<[string, RegExp]>([
    ['"abc', /unterminated quote/],
    ['"a"b', /expected a dot after a quoted name/],
    ['a"b', /a quote may only wrap a whole part/],
    ['a..b', /empty name part/],
    ['.a', /empty name part/],
    ['a.', /empty name part/],
    ['""', /empty name part/],
    ['', /empty name part/]
  ])('refuses %j', (text, message) => {
    const error = inputError(() => splitQualifiedName(Inputs.Tables, text))
    expect(error.message).toMatch(/^Input 'tables': /)
    expect(error.message).toMatch(message)
  })
})

describe('parseDatabases', () => {
  it('takes names as written, unquotes wholly quoted ones, and dedupes', () => {
    expect(parseDatabases('bank, shop\nbank')).toEqual(['bank', 'shop'])
    expect(parseDatabases('"my,db", "a.b", My DB')).toEqual(['my,db', 'a.b', 'My DB'])
    expect(parseDatabases('"bank", bank')).toEqual(['bank'])
  })

  it('refuses a quoted name followed by more parts, NUL, and over-long names', () => {
    expect(inputError(() => parseDatabases('"a".b')).message).toMatch(/^Input 'database': .*not one database name/)
    expect(inputError(() => parseDatabases('ba\0nk')).message).toMatch(/^Input 'database': .*NUL/)
    expect(inputError(() => parseDatabases('x'.repeat(257))).message).toMatch(/^Input 'database': .*longer than 256/)
    expect(parseDatabases('x'.repeat(256))).toEqual(['x'.repeat(256)])
  })
})

describe('parseTables', () => {
  it('reads two- and three-part names and dedupes them', () => {
    expect(parseTables('bank.accounts, bank.public.transfers\nbank.accounts, "bank".accounts')).toEqual([
      { parts: ['bank', 'accounts'] },
      { parts: ['bank', 'public', 'transfers'] }
    ])
  })

  it('keeps quoted parts with commas and dots together', () => {
    expect(parseTables('"my,db"."a.b", shop.*')).toEqual([{ parts: ['my,db', 'a.b'] }, { parts: ['shop', '*'] }])
  })

  it('allows * only as the last part', () => {
    expect(parseTables('bank.*, bank.public.*')).toEqual([{ parts: ['bank', '*'] }, { parts: ['bank', 'public', '*'] }])
    expect(inputError(() => parseTables('*.accounts')).message).toMatch(/^Input 'tables': .*only the last part may be \*/)
    expect(inputError(() => parseTables('bank.*.accounts')).message).toMatch(/only the last part may be \*/)
  })

  it.each(['bank', 'a.b.c.d', '"bank"'])('refuses %j: not database.table or database.schema.table', text => {
    expect(inputError(() => parseTables(text)).message).toMatch(/^Input 'tables': .*must be database\.table or database\.schema\.table/)
  })

  it('refuses NUL and over-long parts', () => {
    expect(inputError(() => parseTables('bank.acc\0ounts')).message).toMatch(/^Input 'tables': .*NUL/)
    expect(inputError(() => parseTables(`bank.${'t'.repeat(257)}`)).message).toMatch(/longer than 256/)
  })

  it('refuses a quoted "*" (a table named *) rather than let it read as the wildcard', () => {
    // `bank."*"` names one table called *, `bank.*` every table; they must not build the same BACKUP.
    expect(inputError(() => parseTables('bank."*"')).message).toMatch(/^Input 'tables': .*a table named \* cannot be backed up by name/)
    expect(parseTables('bank.*')).toEqual([{ parts: ['bank', '*'] }])
  })
})

describe('describeTarget and firstDatabase', () => {
  it('describes one or several databases and tables', () => {
    expect(describeTarget({ kind: 'databases', databases: ['bank'] })).toBe('database bank')
    expect(describeTarget({ kind: 'databases', databases: ['bank', 'shop'] })).toBe('databases bank, shop')
    expect(describeTarget({ kind: 'tables', tables: [{ parts: ['bank', 'public', 'accounts'] }] })).toBe('table bank.public.accounts')
    expect(describeTarget({ kind: 'tables', tables: [{ parts: ['bank', 'accounts'] }, { parts: ['shop', '*'] }] })).toBe(
      'tables bank.accounts, shop.*'
    )
  })

  it('names the default collection after the first database, or the first table’s database', () => {
    expect(firstDatabase({ kind: 'databases', databases: ['bank', 'shop'] })).toBe('bank')
    expect(firstDatabase({ kind: 'tables', tables: [{ parts: ['shop', 'orders'] }, { parts: ['bank', '*'] }] })).toBe('shop')
    expect(() => firstDatabase({ kind: 'databases', databases: [] })).toThrow()
    expect(() => firstDatabase({ kind: 'tables', tables: [] })).toThrow()
  })
})
