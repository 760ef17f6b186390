/** src/backup-folder.ts: the layout of a backup folder in the collection and on disk, both ways, without a server. */
import { describe, expect, it } from 'vitest'
import { backupPrefixes, localName, storedName } from '../src/backup-folder.js'
import { userfileLocation } from '../src/userfile-location.js'

describe('where each local file goes, and back', () => {
  const location = userfileLocation('userfile://defaultdb.public.userfiles_root/bank-backup', 'root')
  const path = '/2024/05/07-141012.34'

  it('puts top-level files in the backup folder, incrementals/ under incrementals, index/ under metadata/index', () => {
    expect(storedName(location, path, 'BACKUP_MANIFEST')).toBe('/bank-backup/2024/05/07-141012.34/BACKUP_MANIFEST')
    expect(storedName(location, path, 'incrementals/20240507/150000.00/BACKUP_MANIFEST')).toBe(
      '/bank-backup/incrementals/2024/05/07-141012.34/20240507/150000.00/BACKUP_MANIFEST'
    )
    // pkg/backup/backupdest/backup_index.go: flattenSubdirForIndex turns the folder's / into -.
    expect(storedName(location, path, 'index/9999_0_20240507-141012.34_metadata.pb')).toBe(
      '/bank-backup/metadata/index/2024-05-07-141012.34/9999_0_20240507-141012.34_metadata.pb'
    )
  })

  it('lists the same three places for the download', () => {
    expect(backupPrefixes(location, path)).toEqual([
      { stored: '/bank-backup/2024/05/07-141012.34/', local: '' },
      { stored: '/bank-backup/incrementals/2024/05/07-141012.34/', local: 'incrementals/' },
      { stored: '/bank-backup/metadata/index/2024-05-07-141012.34/', local: 'index/' }
    ])
  })

  it('takes every stored name back to the local path it came from (a round trip)', () => {
    const locals = ['BACKUP_MANIFEST', 'data/1.sst', 'incrementals/20240507/150000.00/BACKUP_MANIFEST', 'index/9999_0_metadata.pb']
    for (const relative of locals) {
      const stored = storedName(location, path, relative)
      const prefix = backupPrefixes(location, path).find(p => stored.startsWith(p.stored) && localName(p, stored) === relative)
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
