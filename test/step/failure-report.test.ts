/** src/step/failure-report.ts, summary.ts and what-exists.ts: what the summary of a failed step may show. */
import { describe, expect, it } from 'vitest'
import { redactSecrets, splitHint } from '../../src/step/failure-report.js'
import { stepTitle, withCodeSpans } from '../../src/step/summary.js'
import { closestFirst, editDistance } from '../../src/cluster/what-exists.js'

describe('redactSecrets', () => {
  it('replaces a secret as given, SQL-quoted and percent-encoded', () => {
    const secret = "it's 50% @home"
    const echoed = `syntax error at or near "x"\nsource SQL: BACKUP INTO 'userfile:///b' WITH encryption_passphrase = 'it''s 50% @home'`
    expect(redactSecrets(echoed, [secret])).toBe(
      `syntax error at or near "x"\nsource SQL: BACKUP INTO 'userfile:///b' WITH encryption_passphrase = '***'`
    )
    expect(redactSecrets(`s3://b?AWS_SECRET_ACCESS_KEY=${encodeURIComponent(secret)}`, [secret])).toBe('s3://b?AWS_SECRET_ACCESS_KEY=***')
    expect(redactSecrets(`password ${secret} rejected`, [secret])).toBe('password *** rejected')
  })

  it('replaces the longer of two overlapping secrets whole, and leaves text without secrets alone', () => {
    expect(redactSecrets('key abcdef', ['abc', 'abcdef'])).toBe('key ***')
    expect(redactSecrets('nothing secret here', ['abc', ''])).toBe('nothing secret here')
  })

  it('splitHint takes the Hint: lines out of the message, wherever they are', () => {
    expect(splitHint('Job 1 was still running.\nHint: Raise the timeout.\nJob 1 was cancelled.')).toEqual({
      message: 'Job 1 was still running.\nJob 1 was cancelled.',
      hint: 'Raise the timeout.'
    })
    expect(splitHint('No hint here.')).toEqual({ message: 'No hint here.', hint: undefined })
  })
})

describe('the failure summary text', () => {
  it("renders a hint's code spans as <code>, escaped, and drops a lone backtick", () => {
    expect(withCodeSpans('Run `DROP DATABASE "a<b>"` by hand; it`s fine')).toBe(
      'Run <code>DROP DATABASE &quot;a&lt;b&gt;&quot;</code> by hand; its fine'
    )
  })

  it('names a step by what it backed up, three names at most', () => {
    expect(stepTitle('CockroachDB backup', { kind: 'databases', databases: ['bank'] })).toBe('CockroachDB backup of bank')
    const tables = ['a', 'b', 'c', 'd'].map(name => ({ parts: ['bank', 'public', name] }))
    expect(stepTitle('CockroachDB backup', { kind: 'tables', tables })).toBe(
      'CockroachDB backup of bank.public.a, bank.public.b, bank.public.c, …'
    )
  })

  it('lists names closest first by edit distance, then alphabetically, and counts the rest', () => {
    expect(editDistance('bnak', 'bank')).toBe(2)
    expect(closestFirst('bnak', ['system', 'defaultdb', 'bank', 'postgres', 'shop'])).toBe('bank, shop, system, defaultdb, postgres')
    expect(closestFirst('x', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'])).toBe('a, b, c, d, e, f, g, h, and 2 more')
    expect(closestFirst('x', [])).toBe('none')
  })
})
