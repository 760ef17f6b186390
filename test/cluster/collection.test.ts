/** src/cluster/collection.ts and src/base/uri-secrets.ts: the collection URI, its default, `$user`, and keeping its credentials out of logs. */
import { describe, expect, it } from 'vitest'
import { defaultCollection, parseCollection, resolveCollection, resolveUser } from '../../src/cluster/collection.js'
import { locateUserfile, requireUserfile } from '../../src/storage/userfile-location.js'
import { redactCollection, uriSecrets } from '../../src/base/uri-secrets.js'
import { InputError } from '../../src/base/errors.js'
import type { BackupTarget } from '../../src/cluster/targets.js'
import { expectInputError } from '../support/input-error.js'

const BANK: BackupTarget = { kind: 'databases', databases: ['bank'] }

function refusal(raw: string): string {
  return expectInputError(() => parseCollection(raw, BANK), JSON.stringify(raw)).message
}

describe('parseCollection', () => {
  it.each([
    ['userfile://defaultdb.public.userfiles_$user/bank-backup', 'userfile'],
    ['userfile:///bank-backup', 'userfile'],
    ['nodelocal://1/backups', 'nodelocal'],
    ['s3://bucket/path?AUTH=implicit', 's3'],
    ['gs://b/p', 'gs'],
    ['azure://c/p', 'azure'],
    ['USERFILE:///x', 'userfile']
  ])('accepts %j as a %s collection', (uri, scheme) => {
    expect(parseCollection(uri, BANK)).toEqual({ uri, scheme })
  })

  it('trims surrounding space', () => {
    expect(parseCollection('  userfile:///x \n', BANK).uri).toBe('userfile:///x')
  })

  it('is the default userfile collection of the first database when blank or unset', () => {
    const expected = { uri: 'userfile://defaultdb.public.userfiles_$user/bank-backup', scheme: 'userfile' }
    expect(parseCollection(undefined, BANK)).toEqual(expected)
    expect(parseCollection(' ', BANK)).toEqual(expected)
    expect(parseCollection(undefined, { kind: 'tables', tables: [{ parts: ['shop', 'orders'] }] }).uri).toBe(
      'userfile://defaultdb.public.userfiles_$user/shop-backup'
    )
  })

  it.each(['bank-backup', '/bank-backup', 'userfile:/x', '://x', '1http://x'])('refuses %j, naming the input and examples', uri => {
    const message = refusal(uri)
    expect(message).toMatch(/^Input 'collection': must be a storage URI/)
    expect(message).toContain('userfile://')
  })

  it('refuses NUL', () => {
    expect(refusal('userfile:///x\0y')).toMatch(/^Input 'collection': .*NUL/)
  })
})

describe('requireUserfile', () => {
  const refuse = (scheme: string) => new InputError('download-path', `not for ${scheme}`)

  it("refuses another scheme with the caller's reason", () => {
    expect(() => requireUserfile(parseCollection('nodelocal://1/x', BANK), refuse)).toThrow("Input 'download-path': not for nodelocal")
  })

  it('accepts the default and a userfile collection whose host names tables', () => {
    expect(() => requireUserfile(parseCollection(undefined, BANK), refuse)).not.toThrow()
    expect(() => requireUserfile(parseCollection('userfile://mydb.public.files_$user/x', BANK), refuse)).not.toThrow()
  })

  it('refuses a userfile host that names no table, as the collection input', () => {
    const error = expectInputError(() => requireUserfile(parseCollection('userfile://a.b.c.d/x', BANK), refuse))
    expect(error.inputs).toEqual(['collection'])
    expect(error.message).toContain('is not a table name')
  })
})

describe('resolveCollection and locateUserfile', () => {
  it('resolves $user for the session user and redacts credentials for display', () => {
    const collection = parseCollection('s3://b/$user?AWS_SECRET_ACCESS_KEY=k', BANK)
    expect(resolveCollection(collection, 'ci')).toEqual({
      collection: 's3://b/ci?AWS_SECRET_ACCESS_KEY=k',
      collectionForDisplay: 's3://b/ci?AWS_SECRET_ACCESS_KEY=redacted'
    })
  })

  it("blames the collection input when the session user's name breaks the table prefix", () => {
    const { collection } = resolveCollection(parseCollection('userfile://mydb.public.files_$user/x', BANK), 'deploy.user')
    const error = expectInputError(() => locateUserfile(collection, 'deploy.user'))
    expect(error.inputs).toEqual(['collection'])
    expect(error.message).toContain('is not a table name')
  })
})

describe('defaultCollection', () => {
  it('is the userfile space of $user, named after the database', () => {
    expect(defaultCollection('bank')).toBe('userfile://defaultdb.public.userfiles_$user/bank-backup')
  })

  it.each<[string, string]>([
    ['My DB', 'My%20DB'],
    ['a/b', 'a%2Fb'],
    ['a?b#c', 'a%3Fb%23c'],
    ['100%', '100%25'],
    ['café', 'caf%C3%A9']
  ])('encodes %j so it stays one path segment', (database, encoded) => {
    const uri = defaultCollection(database)
    expect(uri).toBe(`userfile://defaultdb.public.userfiles_$user/${encoded}-backup`)
    expect(decodeURIComponent(uri.slice(uri.lastIndexOf('/') + 1))).toBe(`${database}-backup`)
  })
})

describe('resolveUser', () => {
  const DEFAULT = 'userfile://defaultdb.public.userfiles_$user/bank-backup'

  it('puts a plain user name into the table prefix', () => {
    expect(resolveUser(DEFAULT, 'root')).toBe('userfile://defaultdb.public.userfiles_root/bank-backup')
    expect(resolveUser(DEFAULT, 'ci_bot2')).toBe('userfile://defaultdb.public.userfiles_ci_bot2/bank-backup')
  })

  it("uses cockroach userfile's hex prefix for a user that is not a bare identifier", () => {
    // pkg/cli/userfile.go: defaultdb.public.userfilesx_<hex of the name> for names that are not bare.
    expect(resolveUser(DEFAULT, 'ci-bot')).toBe('userfile://defaultdb.public.userfilesx_63692d626f74/bank-backup')
    expect(resolveUser(DEFAULT, 'ci.bot')).toBe('userfile://defaultdb.public.userfilesx_63692e626f74/bank-backup')
    expect(resolveUser(DEFAULT, '1bot')).toBe('userfile://defaultdb.public.userfilesx_31626f74/bank-backup')
    expect(resolveUser(DEFAULT, 'josé')).toBe('userfile://defaultdb.public.userfilesx_6a6f73c3a9/bank-backup')
    expect(resolveUser('userfile://defaultdb.public.userfiles_$user/$user-backup', 'ci-bot')).toBe(
      'userfile://defaultdb.public.userfilesx_63692d626f74/ci-bot-backup'
    )
  })

  it('replaces $user anywhere else, percent-encoding odd names', () => {
    expect(resolveUser('nodelocal://1/backups/$user', 'root')).toBe('nodelocal://1/backups/root')
    expect(resolveUser('nodelocal://1/backups/$user/$user', 'ci-bot')).toBe('nodelocal://1/backups/ci-bot/ci-bot')
    expect(resolveUser('s3://bucket/$user?AUTH=implicit', 'josé')).toBe('s3://bucket/jos%C3%A9?AUTH=implicit')
    expect(resolveUser('userfile://defaultdb.public.other_$user/x', 'root')).toBe('userfile://defaultdb.public.other_root/x')
  })

  it('leaves a URI without $user alone', () => {
    expect(resolveUser('userfile://defaultdb.public.userfiles_admin/bank-backup', 'ci-bot')).toBe(
      'userfile://defaultdb.public.userfiles_admin/bank-backup'
    )
  })
})

describe('uriSecrets and redactCollection', () => {
  it.each<[string, string, string[]]>([
    [
      's3://bucket/path?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI',
      's3://bucket/path?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=redacted',
      ['wJalrXUtnFEMI']
    ],
    [
      's3://bucket/path?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=sec&AWS_SESSION_TOKEN=tok123',
      's3://bucket/path?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=redacted&AWS_SESSION_TOKEN=redacted',
      ['sec', 'tok123']
    ],
    [
      'gs://bucket/path?AUTH=specified&CREDENTIALS=eyJjcmVkcyI6MX0',
      'gs://bucket/path?AUTH=specified&CREDENTIALS=redacted',
      ['eyJjcmVkcyI6MX0']
    ],
    [
      'azure://container/path?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY=a2V5a2V5',
      'azure://container/path?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY=redacted',
      ['a2V5a2V5']
    ],
    ['s3://bucket/path?AUTH=implicit', 's3://bucket/path?AUTH=implicit', []],
    ['userfile://defaultdb.public.userfiles_root/bank-backup', 'userfile://defaultdb.public.userfiles_root/bank-backup', []],
    ['https://user:hunter2@example.com/backups', 'https://user:redacted@example.com/backups', ['hunter2']]
  ])('%s', (uri, redacted, secrets) => {
    expect(uriSecrets(uri)).toEqual({ redacted, secrets })
    expect(redactCollection(uri)).toBe(redacted)
  })

  it('returns a percent-encoded secret both as written and decoded', () => {
    const { redacted, secrets } = uriSecrets('s3://b/p?AWS_SECRET_ACCESS_KEY=abc%2Fdef%2Bg&AWS_ACCESS_KEY_ID=AKIA')
    expect(secrets).toEqual(['abc%2Fdef%2Bg', 'abc/def+g'])
    expect(redacted).toBe('s3://b/p?AWS_SECRET_ACCESS_KEY=redacted&AWS_ACCESS_KEY_ID=AKIA')
    expect(uriSecrets('https://u:p%40ss@host/x').secrets).toEqual(['p%40ss', 'p@ss'])
  })

  it('reads a raw + in a query value as Go does (a space), and masks both', () => {
    expect(uriSecrets('s3://b/p?AWS_SECRET_ACCESS_KEY=ab+cd').secrets).toEqual(['ab+cd', 'ab cd'])
  })

  it('recognises secret parameters by name in any case, keeps others', () => {
    const uri = 's3://b/p?aws_secret_access_key=one&Azure_Client_Secret=two&BEARER_TOKEN=three&ASSUME_ROLE=arn&AWS_ENDPOINT=http://minio'
    const { redacted, secrets } = uriSecrets(uri)
    expect(secrets).toEqual(['one', 'two', 'three'])
    expect(redacted).toBe(
      's3://b/p?aws_secret_access_key=redacted&Azure_Client_Secret=redacted&BEARER_TOKEN=redacted&ASSUME_ROLE=arn&AWS_ENDPOINT=http://minio'
    )
  })

  it('leaves nothing of a malformed percent-escape behind', () => {
    const { redacted, secrets } = uriSecrets('s3://b/p?AWS_SECRET_ACCESS_KEY=50%zz')
    expect(secrets).toEqual(['50%zz'])
    expect(redacted).not.toContain('50%zz')
  })

  it('masks the whole user-info password even when it holds a raw @ (Go splits at the last @)', () => {
    const { redacted, secrets } = uriSecrets('https://user:p@ss@example.com/backups')
    expect(secrets).toContain('p@ss')
    expect(redacted).toBe('https://user:redacted@example.com/backups')
  })
})
