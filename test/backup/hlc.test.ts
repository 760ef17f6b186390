/** src/hlc.ts: CockroachDB's decimal HLC timestamps, kept exact as bigint. */
import { describe, expect, it } from 'vitest'
import { addMs, formatHlc, hlcFromDate, hlcToIso, msBetween, notBefore, parseHlc, wholeMicrosecondAfter } from '../../src/backup/hlc.js'

describe('decimal HLC timestamps', () => {
  it('parse and format back to the text cluster_logical_timestamp() returns, beyond 2^53 without loss', () => {
    const text = '1795919875511123457.0000000003'
    expect(parseHlc(text)).toEqual({ wallNs: 1795919875511123457n, logical: 3n })
    expect(formatHlc(parseHlc(text)!)).toBe(text)
    expect(formatHlc(parseHlc('1795919875511123457')!)).toBe('1795919875511123457.0000000000')
    // Fewer than 10 logical digits are a decimal fraction: .5 is logical 5000000000, as CockroachDB reads it.
    expect(parseHlc('1.5')).toEqual({ wallNs: 1n, logical: 5_000_000_000n })
  })

  it('rounds up to a whole microsecond with no logical part, never earlier than the time given', () => {
    const at = (text: string): string => formatHlc(wholeMicrosecondAfter(parseHlc(text)!))
    expect(at('1795919875511123000.0000000000')).toBe('1795919875511123000.0000000000')
    expect(at('1795919875511123000.0000000003')).toBe('1795919875511124000.0000000000')
    expect(at('1795919875511123457.0000000000')).toBe('1795919875511124000.0000000000')
    expect(at('1795919875511123999.0000000009')).toBe('1795919875511124000.0000000000')
  })

  it.each(['', 'abc', '-1.0', '1.00000000001', '1e10', '12345678901234567890'])('refuses %j', text => {
    expect(parseHlc(text)).toBeUndefined()
  })

  it('adds milliseconds to the wall time, keeps the logical part, and compares', () => {
    const start = parseHlc('1795919875511000000.0000000007')!
    const later = addMs(start, 500)
    expect(formatHlc(later)).toBe('1795919876011000000.0000000007')
    expect(msBetween(start, later)).toBe(500)
    expect(notBefore(later, start)).toBe(true)
    expect(notBefore(start, later)).toBe(false)
    expect(notBefore(start, { ...start, logical: 8n })).toBe(false)
    expect(notBefore(start, start)).toBe(true)
  })

  it('shows as ISO 8601 to the millisecond', () => {
    const date = new Date('2026-11-29T10:00:03.512Z')
    expect(hlcToIso(hlcFromDate(date))).toBe('2026-11-29T10:00:03.512Z')
    expect(hlcToIso(parseHlc('1795919875511999999.0000000000')!)).toBe(new Date(1795919875511).toISOString())
  })
})
