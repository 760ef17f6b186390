/** src/storage/backup-folder.ts: the layout of a backup folder in the collection and on disk, both ways, without a server. */
import { describe, expect, it } from 'vitest'
import { backupPrefixes, indexPrefix, localName, storedName } from '../../src/storage/backup-folder.js'
import { decodeDescendingTime, indexFormatOf, selectUploads } from '../../src/storage/backup-index.js'
import { parseVersion } from '../../src/cluster/version.js'
import { userfileLocation } from '../../src/storage/userfile-location.js'

/** The v26.1+ index directory of /2024/05/07-141012.34: EncodeUvarintDescending(1715091012340) in hex, then the stamp. */
const V26 = '82fe70ac9c050b_20240507-141012.34'

describe('where each local file goes, and back', () => {
  const location = userfileLocation('userfile://defaultdb.public.userfiles_root/bank-backup', 'root')
  const path = '/2024/05/07-141012.34'

  it('puts top-level files in the backup folder, incrementals/ under incrementals, index/ under metadata/index', () => {
    expect(storedName(location, path, 'BACKUP_MANIFEST')).toBe('/bank-backup/2024/05/07-141012.34/BACKUP_MANIFEST')
    expect(storedName(location, path, 'incrementals/20240507/150000.00/BACKUP_MANIFEST')).toBe(
      '/bank-backup/incrementals/2024/05/07-141012.34/20240507/150000.00/BACKUP_MANIFEST'
    )
    // A download from before the directory's name was kept: only v25.4 entries, flattened folder.
    expect(storedName(location, path, 'index/9999_0_20240507-141012.34_metadata.pb')).toBe(
      '/bank-backup/metadata/index/2024-05-07-141012.34/9999_0_20240507-141012.34_metadata.pb'
    )
    expect(storedName(location, path, `index/${V26}/x_metadata.pb`)).toBe(`/bank-backup/metadata/index/${V26}/x_metadata.pb`)
  })

  it('lists the folder and its incrementals; index directories are found by listing', () => {
    expect(backupPrefixes(location, path)).toEqual([
      { stored: '/bank-backup/2024/05/07-141012.34/', local: '' },
      { stored: '/bank-backup/incrementals/2024/05/07-141012.34/', local: 'incrementals/' }
    ])
  })

  it('takes every stored name back to the local path it came from (a round trip)', () => {
    const locals = ['BACKUP_MANIFEST', 'data/1.sst', 'incrementals/20240507/150000.00/BACKUP_MANIFEST', `index/${V26}/9999_0_metadata.pb`]
    const index = indexPrefix({ name: V26, format: 'v26.1', stored: `/bank-backup/metadata/index/${V26}/`, legacyRoot: false })
    for (const relative of locals) {
      const stored = storedName(location, path, relative)
      const prefix = [...backupPrefixes(location, path), index].find(p => stored.startsWith(p.stored) && localName(p, stored) === relative)
      expect(prefix, `${relative} → ${stored}`).toBeDefined()
    }
  })

  it('refuses a stored name that is no plain path inside the folder', () => {
    const [main] = backupPrefixes(location, path)
    expect(localName(main!, '/bank-backup/2024/05/07-141012.34/../../x')).toBeUndefined()
    expect(localName(main!, '/bank-backup/2024/05/07-141012.34/a\\b')).toBeUndefined()
    expect(localName(main!, '/bank-backup/2024/05/07-141012.34/data/1.sst')).toBe('data/1.sst')
    expect(localName(main!, '/elsewhere/BACKUP_MANIFEST')).toBeUndefined()
    expect(localName(main!, '/bank-backup/2024/05/07-141012.34/line\nbreak')).toBeUndefined()
  })
})

const path = '/2024/05/07-141012.34'

describe("a backup's index directories, recognised by shape (backup_index.go, facts §16)", () => {
  it('decodes the descending-encoded end time: 0x88 - n, then the complement of the milliseconds in n bytes', () => {
    // 2025-08-13 12:00:00 UTC = 1755086400000 ms = 0x0198a34d2a00, six bytes: tag 0x82, bytes complemented.
    expect(decodeDescendingTime('82fe675cb2d5ff')).toBe(Date.UTC(2025, 7, 13, 12))
    expect(decodeDescendingTime('88')).toBe(0)
    expect(decodeDescendingTime('87fe')).toBe(1)
    expect(decodeDescendingTime('82fe675cb2d5')).toBeUndefined()
    expect(decodeDescendingTime('zz')).toBeUndefined()
  })

  it('knows the v25.4 and v26.1 names of a folder, and nothing else', () => {
    expect(indexFormatOf('2024-05-07-141012.34', '/2024/05/07-141012.34')).toBe('v25.4')
    expect(indexFormatOf(V26, '/2024/05/07-141012.34')).toBe('v26.1')
    expect(indexFormatOf(V26, '2024/05/07-141012.34')).toBe('v26.1')
    // Another time in either half, or a mismatch between the halves, is another backup.
    expect(indexFormatOf(V26, '/2024/05/07-141012.35')).toBeUndefined()
    expect(indexFormatOf(V26.replace('_20240507', '_20240508'), '/2024/05/07-141012.34')).toBeUndefined()
    expect(indexFormatOf('82fe675cb2d5ff_20250813-120000.00', '/2024/05/07-141012.34')).toBeUndefined()
    expect(indexFormatOf('2024-05-07-141012.34', '/release-42')).toBeUndefined()
  })

  it('uploads only the entries the target version writes itself', () => {
    const files = ['BACKUP_MANIFEST', 'index/2024-05-07-141012.34/a_metadata.pb', `index/${V26}/b_metadata.pb`, 'index/c_metadata.pb']
    const version = (text: string) => parseVersion(`CockroachDB CCL ${text} (x86_64-pc-linux-gnu)`)
    expect(selectUploads(files, path, version('v26.2.1')).upload).toEqual(['BACKUP_MANIFEST', `index/${V26}/b_metadata.pb`])
    expect(selectUploads(files, path, version('v25.4.11')).upload).toEqual([
      'BACKUP_MANIFEST',
      'index/2024-05-07-141012.34/a_metadata.pb',
      'index/c_metadata.pb'
    ])
    expect(selectUploads(files, path, version('v25.2.19')).upload).toEqual(['BACKUP_MANIFEST'])
    expect(selectUploads(files, '/2024/05/08-000000.00', version('v26.2.1')).reason).toContain('belongs to another backup')
  })
})
