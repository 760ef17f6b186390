/** src/storage/userfile-location.ts: a userfile URI → its tables and path, LIKE prefixes and safe names, without a server. */
import { describe, expect, it } from 'vitest'
import { joinPath, likePrefix, safeRelativePath, userfileLocation } from '../../src/storage/userfile-location.js'

describe('userfileLocation', () => {
  it.each([
    // [collection, session user, files table, payload table (quoted only where SQL needs it), path]
    [
      'userfile://defaultdb.public.userfiles_root/bank-backup',
      'root',
      'defaultdb.public.userfiles_root_upload_files',
      'defaultdb.public.userfiles_root_upload_payload',
      '/bank-backup'
    ],
    [
      'userfile:///bank-backup',
      'ci',
      'defaultdb.public.userfiles_ci_upload_files',
      'defaultdb.public.userfiles_ci_upload_payload',
      '/bank-backup'
    ],
    ['userfile://userfiles_root', 'root', 'userfiles_root_upload_files', 'userfiles_root_upload_payload', '/'],
    [
      'userfile://DefaultDB.Public.Files/x%20y',
      'root',
      'defaultdb.public.files_upload_files',
      'defaultdb.public.files_upload_payload',
      '/x y'
    ],
    ['userfile://"My DB".public.f/b', 'root', '"My DB".public.f_upload_files', '"My DB".public.f_upload_payload', '/b']
  ])('%s as %s', (collection, user, files, payload, path) => {
    const location = userfileLocation(collection, user)
    expect(location.tables.files).toBe(files)
    expect(location.tables.payload).toBe(payload)
    expect(location.path).toBe(path)
  })

  it.each([
    ['s3://bucket/x', 'not a userfile:// URI'],
    ['userfile://a.b.c.d/x', 'is not a table name (more than 3 parts)'],
    ['userfile://"open/x', 'is not a table name (unterminated quote)'],
    ['userfile://a..b/x', 'is not a table name (empty name part)']
  ])('refuses %s, saying why', (collection, message) => {
    expect(() => userfileLocation(collection, 'root')).toThrow(message)
  })
})

describe('joinPath, likePrefix, safeRelativePath', () => {
  it.each([
    ['/', '2024/05/07-141012.34', '/2024/05/07-141012.34'],
    ['/bank-backup', '/2024/05/07-141012.34', '/bank-backup/2024/05/07-141012.34'],
    ['/a/', './b//c', '/a/b/c']
  ])('joinPath(%s, %s) = %s', (base, folder, joined) => expect(joinPath(base, folder)).toBe(joined))

  it.each([
    ['/bank-backup/', '/bank-backup/%'],
    ['/a_b/50%/', '/a\\_b/50\\%/%'],
    ['/back\\slash/', '/back\\\\slash/%']
  ])('likePrefix(%s) = %s', (prefix, pattern) => expect(likePrefix(prefix)).toBe(pattern))

  it.each([
    ['BACKUP_MANIFEST', true],
    ['data/1.sst', true],
    ['', false],
    ['../x', false],
    ['a/./b', false],
    ['a//b', false],
    ['a\\b', false],
    ['line\nbreak', false],
    ['tab\there', false]
  ])('safeRelativePath(%j) = %s', (relative, safe) => expect(safeRelativePath(relative)).toBe(safe))
})
