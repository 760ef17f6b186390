import { describe, expect, it } from 'vitest'
import { chooseLayer, describeAge, parseFullEvery } from '../../src/backup/cadence.js'
import { InputError } from '../../src/base/errors.js'

const DAY = 86_400_000
const now = Date.UTC(2026, 11, 5, 2, 0, 0)

describe('parseFullEvery', () => {
  it('takes whole minutes, hours and days', () => {
    expect(parseFullEvery('7d')).toEqual({ ms: 7 * DAY, text: '7d' })
    expect(parseFullEvery('36h')).toEqual({ ms: 36 * 3_600_000, text: '36h' })
    expect(parseFullEvery(' 90m ')).toEqual({ ms: 90 * 60_000, text: '90m' })
    expect(parseFullEvery('')).toBeUndefined()
  })

  it.each(['7', 'd', '7 d', '1.5d', '-1d', '0m', '367d', '7w', 'weekly', '7D'])('refuses %j naming the input', value => {
    expect(() => parseFullEvery(value)).toThrow(InputError)
    expect(() => parseFullEvery(value)).toThrow(/'full-every'.*7d, 36h or 90m/)
  })
})

describe('describeAge', () => {
  it('says days and hours, hours and minutes, rounded down', () => {
    expect(describeAge(5 * DAY)).toBe('5 days')
    expect(describeAge(DAY + 3 * 3_600_000 + 59_000)).toBe('1 day 3 hours')
    expect(describeAge(2 * 3_600_000 + 60_000)).toBe('2 hours 1 minute')
    expect(describeAge(-5000)).toBe('0 minutes')
  })
})

describe('chooseLayer', () => {
  const every = { ms: 7 * DAY, text: '7d' }

  it('keeps the inputs\u2019 choice without full-every, and says why', () => {
    expect(chooseLayer({ kind: 'new' }, undefined, [], now).reason).toMatch(/every run/)
    expect(chooseLayer({ kind: 'latest' }, undefined, [], now)).toEqual({
      destination: { kind: 'latest' },
      reason: expect.stringMatching(/incremental: true/)
    })
  })

  it('appends to the newest full backup, by name, while it is younger than full-every', () => {
    const listed = ['/2026/11/20-020000.00', '2026/11/30-020000.00', '/release-42']
    expect(chooseLayer({ kind: 'new' }, every, listed, now)).toEqual({
      destination: { kind: 'subdirectory', name: '/2026/11/30-020000.00' },
      reason: 'the newest full backup, /2026/11/30-020000.00, is 5 days old; full-every is 7d'
    })
  })

  it('takes a new full backup once the newest is full-every old, or when there is none (explicit subdirectories do not count)', () => {
    expect(chooseLayer({ kind: 'new' }, every, ['/2026/11/28-020000.00'], now)).toEqual({
      destination: { kind: 'new' },
      reason: 'the newest full backup, /2026/11/28-020000.00, is 7 days old; full-every is 7d'
    })
    expect(chooseLayer({ kind: 'new' }, every, ['/release-42'], now)).toEqual({
      destination: { kind: 'new' },
      reason: 'the collection has no full backup yet; full-every is 7d'
    })
  })
})
