/** The restore companion's as-of-system-time: the forms it takes, its resolution against SHOW BACKUP, and CockroachDB's refusals. */
import { describe, expect, it } from 'vitest'
import type { ShowBackupRow } from '../../src/cluster/backup-listing.js'
import { QueryError } from '../../src/cluster/connect-policy.js'
import { ActionError } from '../../src/base/errors.js'
import {
  formatNanos,
  layerEnds,
  parseRestoreAsOf,
  parseTimestampNanos,
  pointInTimeRefusal,
  resolveRestoreAsOf
} from '../../src/restore/point-in-time.js'
import * as sql from '../../src/cluster/sql/index.js'

const row = (start: string | null, end: string): ShowBackupRow => ({
  database_name: 'bank',
  parent_schema_name: 'public',
  object_name: 'accounts',
  object_type: 'table',
  backup_type: start === null ? 'full' : 'incremental',
  start_time: start,
  end_time: end,
  size_bytes: '1',
  rows: '1'
})

const CHAIN = [row(null, '2026-11-30 02:00:00.123456+00'), row('2026-11-30 02:00:00.123456+00', '2026-11-30 03:00:00+00')]

describe('as-of-system-time (restore)', () => {
  it.each([
    ['2026-11-30 02:00:00', '2026-11-30T02:00:00Z'],
    ['2026-11-30T02:00:00Z', '2026-11-30T02:00:00Z'],
    ['2026-11-30T03:30:00+01:30', '2026-11-30T02:00:00Z'],
    ['2026-11-29 21:00:00-05', '2026-11-30T02:00:00Z'],
    ['2026-11-30 02:00:00.123456789', '2026-11-30T02:00:00.123456789Z'],
    ['2026-11-30 02:00:00 UTC', '2026-11-30T02:00:00Z'],
    ['2026-11-30 02:00:00.123456789 +0000 UTC', '2026-11-30T02:00:00.123456789Z']
  ])('reads the timestamp %s as %s', (input, iso) => {
    const asOf = parseRestoreAsOf(input)
    expect(asOf?.kind).toBe('timestamp')
    expect(formatNanos(asOf!.nanos)).toBe(iso)
  })

  it.each([
    ['-2h', -7_200_000_000_000n],
    ['-1h30m', -5_400_000_000_000n],
    ['-90s', -90_000_000_000n],
    ['-500ms', -500_000_000n],
    ['-10us', -10_000n]
  ])('reads %s as that long before the end', (input, nanos) => {
    expect(parseRestoreAsOf(input)).toEqual({ kind: 'before-end', nanos, input })
  })

  it('is empty for the end', () => {
    expect(parseRestoreAsOf('  ')).toBeUndefined()
  })

  it.each([
    ['2h', /Did you mean -2h\?/],
    ['+2h', /Did you mean -2h\?/],
    ['-2 hours', /is not accepted/],
    ['-1d', /is not accepted/],
    ['1715091012340000000.0000000000', /is not accepted/],
    ['2026-11-31 00:00:00', /is not accepted/],
    ['2026-11-30', /is not accepted/],
    ["2026-11-30 02:00:00'; DROP DATABASE bank; --", /is not accepted/],
    ['-0h0m', /is the backup's end itself/]
  ])('refuses %s, naming the input', (input, message) => {
    expect(() => parseRestoreAsOf(input)).toThrow(/^Input 'as-of-system-time': /)
    expect(() => parseRestoreAsOf(input)).toThrow(message)
  })

  it('lists each layer end once, oldest first, from TIMESTAMP or TIMESTAMPTZ text', () => {
    expect(layerEnds([...CHAIN, ...CHAIN].reverse()).map(end => end.text)).toEqual(['2026-11-30T02:00:00.123456Z', '2026-11-30T03:00:00Z'])
    expect(layerEnds([row(null, '2026-11-30 02:00:00.5')]).map(end => end.text)).toEqual(['2026-11-30T02:00:00.5Z'])
  })

  it("counts a relative time back from the backup's end and sends a decimal HLC timestamp", () => {
    const resolved = resolveRestoreAsOf(parseRestoreAsOf('-90m')!, layerEnds(CHAIN), '/2026/11/30-020000.12')
    expect(resolved).toEqual({ literal: `${parseTimestampNanos('2026-11-30 01:30:00')!}.0000000000`, display: '2026-11-30T01:30:00Z' })
  })

  it("refuses a time surely after the backup's end, and lets one within the printed end's last microsecond through", () => {
    const ends = layerEnds(CHAIN)
    expect(() => resolveRestoreAsOf(parseRestoreAsOf('2026-11-30 03:00:01')!, ends, '/p')).toThrow(
      /as-of-system-time 2026-11-30 03:00:01 \(2026-11-30T03:00:01Z\) is after the end of backup \/p, 2026-11-30T03:00:00Z\. Taken with revision-history, .* only to the end of one of its layers \(2026-11-30T02:00:00\.123456Z, 2026-11-30T03:00:00Z\)\./
    )
    expect(resolveRestoreAsOf(parseRestoreAsOf('2026-11-30 03:00:00.000000999')!, ends, '/p').display).toBe(
      '2026-11-30T03:00:00.000000999Z'
    )
  })

  it("restores the end itself (no AS OF SYSTEM TIME) for the newest end exactly as SHOW BACKUP prints it, which may lack the end's last nanoseconds", () => {
    const ends = layerEnds(CHAIN)
    expect(resolveRestoreAsOf(parseRestoreAsOf('2026-11-30T03:00:00Z')!, ends, '/p')).toEqual({
      literal: undefined,
      display: '2026-11-30T03:00:00Z'
    })
    expect(resolveRestoreAsOf(parseRestoreAsOf('2026-11-30T02:00:00.123456Z')!, ends, '/p').literal).toBe(
      `${parseTimestampNanos('2026-11-30 02:00:00.123456')!}.0000000000`
    )
  })

  it("turns CockroachDB's three refusals into messages naming revision-history and the backup's range; other errors stay", () => {
    const ends = layerEnds(CHAIN)
    const asOf = parseRestoreAsOf('-90m')!
    const resolved = resolveRestoreAsOf(asOf, ends, '/p')
    const refusal = (message: string, code = 'XXUUU') =>
      pointInTimeRefusal(new QueryError(message, { message, code }), asOf, resolved, ends, '/p')
    const noRevisions = refusal(
      "invalid RESTORE timestamp: restoring to arbitrary time requires that BACKUP for requested time be created with 'revision_history' option. nearest BACKUP times are 2026-11-30 02:00:00.123456 +0000 UTC or 2026-11-30 03:00:00 +0000 UTC"
    )
    expect(noRevisions).toBeInstanceOf(ActionError)
    expect((noRevisions as Error).message).toMatch(
      /^Backup \/p cannot be restored to as-of-system-time -90m \(2026-11-30T01:30:00Z\): the layer that covers that time was taken without revision history \(the backup action's revision-history input\), so it restores only to the end of one of its layers \(2026-11-30T02:00:00\.123456Z, 2026-11-30T03:00:00Z\)\./
    )
    expect((noRevisions as Error).message).toMatch(/Hint: .*take backups with revision-history: true/)
    const from = refusal(
      'invalid RESTORE timestamp: BACKUP for requested time only has revision history from 2026-11-29 23:00:00 +0000 UTC'
    )
    expect((from as Error).message).toContain('its revision history covers 2026-11-29 23:00:00 +0000 UTC to 2026-11-30T03:00:00Z')
    const uncovered = refusal('invalid RESTORE timestamp: supplied backups do not cover requested time')
    expect((uncovered as Error).message).toContain(
      'does not cover as-of-system-time -90m (2026-11-30T01:30:00Z): it ends at 2026-11-30T03:00:00Z.'
    )
    const other = new QueryError('boom', { message: 'boom', code: 'XXUUU' })
    expect(pointInTimeRefusal(other, asOf, resolved, ends, '/p')).toBe(other)
    const otherCode = new QueryError('x', {
      message: 'invalid RESTORE timestamp: supplied backups do not cover requested time',
      code: '42501'
    })
    expect(pointInTimeRefusal(otherCode, asOf, resolved, ends, '/p')).toBe(otherCode)
  })

  it('puts AS OF SYSTEM TIME, literal-quoted, between the collection and WITH', () => {
    const statement = sql.restoreDetached({
      target: { kind: 'databases', databases: ['bank'] },
      path: '/p',
      collection: 'userfile:///c',
      newDbName: undefined,
      intoDb: undefined,
      encryptionPassphrase: undefined,
      asOf: "1'0"
    })
    expect(statement).toBe("RESTORE DATABASE bank FROM '/p' IN 'userfile:///c' AS OF SYSTEM TIME '1''0' WITH detached")
  })
})
