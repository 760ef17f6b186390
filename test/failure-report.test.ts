/** src/failure-report.ts: what the summary of a failed step may show. */
import { describe, expect, it } from 'vitest'
import { redactSecrets, splitHint } from '../src/failure-report.js'

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
