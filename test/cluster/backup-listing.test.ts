/**
 * src/cluster/backup-listing.ts: SHOW BACKUPS paths in both formats, identifying the new backup, and summing
 * SHOW BACKUP rows.
 */
import { describe, expect, it } from 'vitest'
import {
  folderForEndTime,
  fullLayerEndTime,
  identifyBackup,
  matchesFolderName,
  newPaths,
  normalizeTimestamp,
  pathKey,
  samePath,
  summarizeBackup,
  type IdentifyInput,
  type ShowBackupRow
} from '../../src/cluster/backup-listing.js'

const OLD = '/2024/05/06-120000.00'
const NEW = '/2024/05/07-141012.34'
const OTHER = '/2024/05/07-141013.01'

describe('pathKey, samePath, newPaths', () => {
  it('treats the slashless (root collection, early 2021) and slashed forms as one folder', () => {
    expect(pathKey('2024/05/07-141012.34')).toBe(NEW)
    expect(pathKey(NEW)).toBe(NEW)
    expect(samePath('2024/05/07-141012.34', NEW)).toBe(true)
    expect(samePath(NEW, OTHER)).toBe(false)
  })

  it('returns what appeared after, as listed after, whatever format either listing used', () => {
    expect(newPaths([OLD], [OLD, NEW])).toEqual([NEW])
    expect(newPaths(['2024/05/06-120000.00'], [OLD, NEW])).toEqual([NEW])
    expect(newPaths([OLD], ['2024/05/06-120000.00', '2024/05/07-141012.34'])).toEqual(['2024/05/07-141012.34'])
    expect(newPaths([OLD, NEW], [OLD, NEW])).toEqual([])
    expect(newPaths([], [OLD, NEW])).toEqual([OLD, NEW])
  })
})

describe('identifyBackup', () => {
  const input = (overrides: Partial<IdentifyInput>): IdentifyInput => ({
    destination: { kind: 'new' },
    before: [OLD],
    after: [OLD, NEW],
    jobFolder: undefined,
    ...overrides
  })

  describe('a new full backup', () => {
    it('is the one new path', () => {
      expect(identifyBackup(input({}))).toEqual({ ok: true, path: NEW })
      expect(identifyBackup(input({ before: [], after: [NEW] }))).toEqual({ ok: true, path: NEW })
    })

    it('is returned as SHOW BACKUPS lists it (slashless stays slashless)', () => {
      expect(identifyBackup(input({ before: ['2024/05/06-120000.00'], after: ['2024/05/06-120000.00', '2024/05/07-141012.34'] }))).toEqual({
        ok: true,
        path: '2024/05/07-141012.34'
      })
    })

    it('fails when nothing new is listed', () => {
      const result = identifyBackup(input({ after: [OLD] }))
      expect(result).toEqual({ ok: false, reason: expect.stringContaining('lists no new backup') })
    })

    it('fails when several new paths appear and the job does not name one', () => {
      const result = identifyBackup(input({ after: [OLD, NEW, OTHER] }))
      expect(result.ok).toBe(false)
      if (!result.ok) {
        expect(result.reason).toContain('2 new backups appeared')
        expect(result.reason).toContain(NEW)
        expect(result.reason).toContain(OTHER)
      }
    })

    it('picks the job’s own folder among several new ones, in either format', () => {
      expect(identifyBackup(input({ after: [OLD, NEW, OTHER], jobFolder: OTHER }))).toEqual({ ok: true, path: OTHER })
      expect(identifyBackup(input({ after: [OLD, '2024/05/07-141012.34', OTHER], jobFolder: NEW }))).toEqual({
        ok: true,
        path: '2024/05/07-141012.34'
      })
    })

    it('trusts the job folder over a single other new path', () => {
      const result = identifyBackup(input({ after: [OLD, OTHER], jobFolder: NEW }))
      expect(result).toEqual({ ok: false, reason: expect.stringContaining(`the job wrote ${NEW}, but SHOW BACKUPS lists it nowhere`) })
    })

    it('fails when the job folder was already listed before', () => {
      const result = identifyBackup(input({ before: [OLD, NEW], after: [OLD, NEW, OTHER], jobFolder: NEW }))
      expect(result).toEqual({ ok: false, reason: expect.stringContaining('as an older backup') })
    })
  })

  describe('a subdirectory', () => {
    it.each<[string, string]>([
      ['release-42', '/release-42'],
      ['/release-42', '/release-42'],
      ['//release-42', '/release-42']
    ])('%j is /name, whatever SHOW BACKUPS lists', (name, path) => {
      expect(identifyBackup(input({ destination: { kind: 'subdirectory', name }, after: [OLD] }))).toEqual({ ok: true, path })
    })
  })

  describe('an incremental (INTO LATEST)', () => {
    const latest = (overrides: Partial<IdentifyInput>): IdentifyInput =>
      input({ destination: { kind: 'latest' }, before: [OLD, NEW], after: [OLD, NEW], ...overrides })

    it('belongs to the full backup the job description names', () => {
      expect(identifyBackup(latest({ jobFolder: NEW }))).toEqual({ ok: true, path: NEW })
      expect(identifyBackup(latest({ jobFolder: OLD }))).toEqual({ ok: true, path: OLD })
    })

    it('uses the end time of SHOW BACKUP LATEST when the description says LATEST or nothing', () => {
      for (const jobFolder of ['LATEST', 'latest', undefined]) {
        expect(identifyBackup(latest({ jobFolder, latestFullEndTime: '2024-05-07 14:10:12.349999' }))).toEqual({ ok: true, path: NEW })
      }
      expect(identifyBackup(latest({ jobFolder: 'LATEST', latestFullEndTime: '2024-05-07 14:10:12.349999+00:00' }))).toEqual({
        ok: true,
        path: NEW
      })
    })

    it('returns the path as SHOW BACKUPS lists it', () => {
      const listed = ['2024/05/06-120000.00', '2024/05/07-141012.34']
      expect(identifyBackup(latest({ before: listed, after: listed, jobFolder: NEW }))).toEqual({ ok: true, path: '2024/05/07-141012.34' })
    })

    it('fails when neither the job nor SHOW BACKUP LATEST says which full backup', () => {
      for (const latestFullEndTime of [undefined, '', 'not a time']) {
        const result = identifyBackup(latest({ jobFolder: 'LATEST', latestFullEndTime }))
        expect(result).toEqual({ ok: false, reason: expect.stringContaining('neither the job nor SHOW BACKUP LATEST') })
      }
    })

    it('fails when the full backup was not listed before the job', () => {
      const result = identifyBackup(latest({ before: [OLD], after: [OLD, NEW], jobFolder: NEW }))
      expect(result).toEqual({ ok: false, reason: expect.stringContaining(`appended to ${NEW}, which SHOW BACKUPS did not list before`) })
      const viaEndTime = identifyBackup(latest({ before: [OLD], after: [OLD, NEW], latestFullEndTime: '2024-05-07 14:10:12.34' }))
      expect(viaEndTime.ok).toBe(false)
    })
  })
})

describe('folderForEndTime', () => {
  it.each<[string, string]>([
    ['2024-05-07 14:10:12.349999', NEW],
    ['2024-05-07 14:10:12.34', NEW],
    ['2024-05-07 14:10:12.3', '/2024/05/07-141012.30'],
    ['2024-05-07 14:10:12', '/2024/05/07-141012.00'],
    ['2024-05-07 14:10:12.999999999', '/2024/05/07-141012.99'],
    ['2024-05-07 14:10:12.349999+00:00', NEW],
    ['2024-05-07 14:10:12.349999+00', NEW],
    ['2024-05-07T14:10:12.349999Z', NEW],
    ['2024-05-07 16:10:12.349999+02:00', NEW],
    ['2024-05-08 01:30:00.5+02:00', '/2024/05/07-233000.50'],
    ['2024-05-07 09:10:12.34-05', NEW]
  ])('%j → %j (UTC, hundredths truncated)', (endTime, folder) => {
    expect(folderForEndTime(endTime)).toBe(folder)
  })

  it.each(['', 'yesterday', '2024-05-07'])('gives nothing for %j', endTime => {
    expect(folderForEndTime(endTime)).toBeUndefined()
  })
})

describe('normalizeTimestamp', () => {
  it.each<[string, string]>([
    ['2024-05-07 14:10:12.34+00:00', '2024-05-07T14:10:12.34Z'],
    ['2024-05-07 14:10:12.34+00', '2024-05-07T14:10:12.34Z'],
    ['2024-05-07 14:10:12.34+0000', '2024-05-07T14:10:12.34Z'],
    ['2024-05-07T14:10:12.34Z', '2024-05-07T14:10:12.34Z'],
    ['2024-05-07 14:10:12.349999', '2024-05-07T14:10:12.349999Z'],
    ['2024-05-07 14:10:12', '2024-05-07T14:10:12Z'],
    [' 2024-05-07 14:10:12 ', '2024-05-07T14:10:12Z']
  ])('%j → %j', (text, iso) => {
    expect(normalizeTimestamp(text)).toBe(iso)
  })

  it.each<[string, string]>([
    ['2024-05-07 16:10:12.34+02:00', '2024-05-07T14:10:12.34Z'],
    ['2024-05-07 09:10:12.34-05', '2024-05-07T14:10:12.34Z'],
    ['2024-05-07 19:40:12+05:30', '2024-05-07T14:10:12Z'],
    ['2024-05-08 00:10:12.34+10:00', '2024-05-07T14:10:12.34Z']
  ])('converts the non-UTC %j to the same instant in UTC', (text, iso) => {
    const normalized = normalizeTimestamp(text)
    expect(normalized).toMatch(/Z$/)
    expect(Date.parse(normalized)).toBe(Date.parse(iso))
  })

  it('keeps the microseconds when converting a non-UTC offset, as it does for UTC', () => {
    expect(normalizeTimestamp('2024-05-07 16:10:12.123456+02:00')).toBe('2024-05-07T14:10:12.123456Z')
  })

  it('returns what it cannot read unchanged', () => {
    expect(normalizeTimestamp('not a time')).toBe('not a time')
  })
})

function row(overrides: Partial<ShowBackupRow>): ShowBackupRow {
  return {
    database_name: 'bank',
    parent_schema_name: 'public',
    object_name: 'accounts',
    object_type: 'table',
    backup_type: 'full',
    start_time: null,
    end_time: '2024-05-07 14:10:12.349999',
    size_bytes: '0',
    rows: '0',
    is_full_cluster: false,
    ...overrides
  }
}

/** One layer as SHOW BACKUP prints it: the database row, the schema row, then tables. */
function layer(
  backupType: string,
  startTime: string | null,
  endTime: string,
  tables: [string, string | null, string | null][]
): ShowBackupRow[] {
  const common = { backup_type: backupType, start_time: startTime, end_time: endTime }
  return [
    row({
      ...common,
      database_name: null,
      parent_schema_name: null,
      object_name: 'bank',
      object_type: 'database',
      size_bytes: null,
      rows: null
    }),
    row({ ...common, parent_schema_name: null, object_name: 'public', object_type: 'schema', size_bytes: null, rows: null }),
    ...tables.map(([name, rows, bytes]) => row({ ...common, object_name: name, rows, size_bytes: bytes }))
  ]
}

describe('summarizeBackup', () => {
  it('sums the table rows of a full backup (INT8 arrives as a string) and skips database and schema rows', () => {
    const summary = summarizeBackup(
      layer('full', null, '2024-05-07 14:10:12.349999', [
        ['accounts', '1000', '52000'],
        ['transfers', '20', '1300']
      ])
    )
    expect(summary).toEqual({
      backupType: 'full',
      endTime: '2024-05-07T14:10:12.349999Z',
      rows: 1020,
      bytes: 53300,
      objects: [
        { name: 'bank.public.accounts', type: 'table', rows: 1000, bytes: 52000 },
        { name: 'bank.public.transfers', type: 'table', rows: 20, bytes: 1300 }
      ],
      layers: 1
    })
  })

  it('counts only the newest layer of a chain with incrementals', () => {
    const rows = [
      ...layer('full', null, '2024-05-07 14:10:12.349999', [['accounts', '1000', '52000']]),
      ...layer('incremental', '2024-05-07 14:10:12.349999', '2024-05-07 15:00:00.5', [['accounts', '5', '300']]),
      ...layer('incremental', '2024-05-07 15:00:00.5', '2024-05-07 16:00:00.25', [['accounts', '7', '410']])
    ]
    expect(summarizeBackup(rows)).toMatchObject({
      backupType: 'incremental',
      endTime: '2024-05-07T16:00:00.25Z',
      rows: 7,
      bytes: 410,
      layers: 3
    })
  })

  it('finds the newest layer whatever order the rows come in, TIMESTAMPTZ too', () => {
    const rows = [
      ...layer('incremental', '2024-05-07 14:10:12.349999+00:00', '2024-05-07 15:00:00.5+00:00', [['accounts', '5', '300']]),
      ...layer('full', null, '2024-05-07 14:10:12.349999+00:00', [['accounts', '1000', '52000']])
    ]
    expect(summarizeBackup(rows)).toMatchObject({
      backupType: 'incremental',
      endTime: '2024-05-07T15:00:00.5Z',
      rows: 5,
      bytes: 300,
      layers: 2
    })
  })

  it('counts a compacted layer (same end time as the newest incremental) as a layer of its own, and never sums it into this layer', () => {
    // show_test.go TestShowBackupWithIDs: a compaction spans incrementals, from the first one's start
    // to the last one's end, so two layers end at 16:00; the job's own layer is the one starting last.
    const rows = [
      ...layer('full', null, '2024-05-07 14:00:00', [['accounts', '1000', '52000']]),
      ...layer('incremental', '2024-05-07 14:00:00', '2024-05-07 15:00:00', [['accounts', '5', '300']]),
      ...layer('incremental', '2024-05-07 15:00:00', '2024-05-07 16:00:00', [['accounts', '7', '410']]),
      ...layer('incremental', '2024-05-07 14:00:00', '2024-05-07 16:00:00', [['accounts', '12', '650']])
    ]
    for (const ordered of [rows, [...rows].reverse()]) {
      expect(summarizeBackup(ordered)).toMatchObject({
        backupType: 'incremental',
        endTime: '2024-05-07T16:00:00Z',
        rows: 7,
        bytes: 410,
        layers: 4
      })
    }
  })

  it('orders layers by time when one end time has no fraction', () => {
    // CockroachDB prints a whole-second end time without a fraction (an explicit AS OF SYSTEM TIME
    // '2024-05-07 14:10:12'); the increment 0.5 s later is still the newest layer.
    const rows = [
      ...layer('full', null, '2024-05-07 14:10:12', [['accounts', '1000', '52000']]),
      ...layer('incremental', '2024-05-07 14:10:12', '2024-05-07 14:10:12.5', [['accounts', '5', '300']])
    ]
    expect(summarizeBackup(rows)).toMatchObject({ backupType: 'incremental', endTime: '2024-05-07T14:10:12.5Z', rows: 5 })
  })

  it('reads NULL sizes and row counts as 0, and numbers as numbers', () => {
    const summary = summarizeBackup(
      layer('full', null, '2024-05-07 14:10:12.34', [
        ['empty', null, null],
        ['numeric', '3', '40']
      ])
    )
    expect(summary).toMatchObject({ rows: 3, bytes: 40 })
    expect(summarizeBackup([row({ rows: 12, size_bytes: 345 })])).toMatchObject({ rows: 12, bytes: 345 })
  })

  it('names objects from whichever name parts are present', () => {
    const summary = summarizeBackup([row({ parent_schema_name: null, object_name: 'orphan' })])
    expect(summary?.objects.map(o => o.name)).toEqual(['bank.orphan'])
  })

  it('gives nothing for no rows or rows without an end time', () => {
    expect(summarizeBackup([])).toBeUndefined()
    expect(summarizeBackup([row({ end_time: null })])).toBeUndefined()
  })
})

describe('fullLayerEndTime and matchesFolderName', () => {
  const chain = [
    ...layer('full', null, '2024-05-07 14:10:12.349999', [['accounts', '1', '1']]),
    ...layer('incremental', '2024-05-07 14:10:12.349999', '2024-05-07 15:00:00.5', [['accounts', '1', '1']])
  ]

  it('takes the end time of the full layer', () => {
    expect(fullLayerEndTime(chain)).toBe('2024-05-07 14:10:12.349999')
    expect(fullLayerEndTime(layer('incremental', 'x', '2024-05-07 15:00:00.5', []))).toBeUndefined()
  })

  it('accepts a date-based folder only when it matches the full layer’s end time, in either format', () => {
    expect(matchesFolderName(NEW, chain)).toBe(true)
    expect(matchesFolderName('2024/05/07-141012.34', chain)).toBe(true)
    expect(matchesFolderName('/2024/05/07-141012.35', chain)).toBe(false)
    expect(matchesFolderName(OLD, chain)).toBe(false)
    expect(matchesFolderName(NEW, layer('incremental', 'x', '2024-05-07 15:00:00.5', []))).toBe(false)
    expect(matchesFolderName(NEW, [])).toBe(false)
  })

  it('tells the layers apart by their start time on v21.1, whose SHOW BACKUP has no backup_type (PR #63832 is v21.2)', () => {
    const withoutType = chain.map(row => {
      const copy: ShowBackupRow = { ...row }
      delete copy.backup_type
      return copy
    })
    expect(fullLayerEndTime(withoutType)).toBe('2024-05-07 14:10:12.349999')
    expect(matchesFolderName(NEW, withoutType)).toBe(true)
    expect(summarizeBackup(withoutType)?.backupType).toBe('incremental')
    expect(summarizeBackup(withoutType.slice(0, 3))?.backupType).toBe('full')
  })

  it('accepts any explicit subdirectory (its name carries no time)', () => {
    expect(matchesFolderName('/release-42', chain)).toBe(true)
    expect(matchesFolderName('/release-42', [])).toBe(true)
  })
})
