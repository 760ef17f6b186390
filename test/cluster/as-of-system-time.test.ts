/** src/cluster/as-of-system-time.ts: the forms pkg/sql/sem/asof accepts for BACKUP, checked before connecting. */
import { describe, expect, it } from 'vitest'
import { describeAsOf, parseAsOfSystemTime, type AsOfSystemTime } from '../../src/cluster/as-of-system-time.js'
import { expectInputError } from '../support/input-error.js'

function refusal(value: string): string {
  return expectInputError(() => parseAsOfSystemTime(value), JSON.stringify(value)).message
}

describe('parseAsOfSystemTime accepts', () => {
  it.each([
    '-10s',
    '-1m30s',
    '-2h',
    '-500ms',
    '-1.5h',
    '-1h2m3s',
    '-250us',
    '-250µs',
    '-10 seconds',
    '-1 minute',
    '-2 hours',
    '-500 milliseconds',
    '-00:00:10',
    '-01:30:00.5'
  ])('the negative interval %j', value => {
    expect(parseAsOfSystemTime(value)).toEqual({ kind: 'interval', value })
  })

  it.each([
    '2024-05-07 14:10:12.34',
    '2024-05-07 14:10:12',
    '2024-05-07 14:10:12.123456789',
    '2024-05-07T14:10:12Z',
    '2024-05-07T14:10:12.34Z',
    '2024-05-07 14:10:12+00:00',
    '2024-05-07 14:10:12.5-05',
    '2024-05-07 14:10:12+0530',
    '2024-05-07 14:10',
    '2024-05-07'
  ])('the timestamp %j', value => {
    expect(parseAsOfSystemTime(value)).toEqual({ kind: 'timestamp', value })
  })

  it.each(['1715091012340000000.0000000000', '1715091012340000000', '1715091012340000000.5'])('the decimal HLC timestamp %j', value => {
    expect(parseAsOfSystemTime(value)).toEqual({ kind: 'hlc', value })
  })

  it.each(['follower_read_timestamp()', 'FOLLOWER_READ_TIMESTAMP()', 'Follower_Read_Timestamp( )'])('%j', value => {
    expect(parseAsOfSystemTime(value)).toEqual({ kind: 'follower-read' })
  })

  it.each(['step-start', 'STEP-START', ' Step-Start '])("the default keyword %j, for the step's start", value => {
    expect(parseAsOfSystemTime(value)).toEqual({ kind: 'step-start' })
  })

  it('trims surrounding space, and reads empty as "no AS OF SYSTEM TIME"', () => {
    expect(parseAsOfSystemTime('  -10s \n')).toEqual({ kind: 'interval', value: '-10s' })
    expect(parseAsOfSystemTime('')).toBeUndefined()
    expect(parseAsOfSystemTime('   ')).toBeUndefined()
  })
})

describe('parseAsOfSystemTime refuses', () => {
  it.each<[string, string]>([
    ['10s', '-10s'],
    ['1m30s', '-1m30s'],
    ['10 seconds', '-10 seconds']
  ])('the positive interval %j, suggesting %j', (value, suggestion) => {
    const message = refusal(value)
    expect(message).toMatch(/^Input 'as-of-system-time': /)
    expect(message).toContain('in the future')
    expect(message).toContain(`Did you mean ${suggestion}?`)
  })

  it.each([
    'now()',
    "'; DROP DATABASE bank; --",
    "-10s'; DROP DATABASE bank; --",
    '2024-13-01',
    '2024-05-00',
    '2024-05-07 25:00:00',
    '2024-05-07 14:61:00',
    '-10x',
    '-10',
    '- 10s',
    "with_max_staleness('10s')",
    "with_min_timestamp('2024-05-07')",
    'follower_read_timestamp',
    'follower_read_timestamp() + 1',
    'yesterday',
    '1715091012340000000.00000000001',
    '-10s\n; DROP DATABASE bank'
  ])('%j, naming the input and the accepted forms', value => {
    const message = refusal(value)
    expect(message).toMatch(/^Input 'as-of-system-time': /)
    expect(message).toContain('is not accepted')
    expect(message).toContain('follower_read_timestamp()')
    expect(message).not.toContain('Did you mean')
  })

  it('a calendar date that does not exist (2024-02-30), which CockroachDB refuses at BACKUP time', () => {
    expect(refusal('2024-02-30 12:00:00')).toMatch(/^Input 'as-of-system-time': /)
  })
})

describe('describeAsOf', () => {
  it.each<[AsOfSystemTime | undefined, string]>([
    [undefined, 'now (no AS OF SYSTEM TIME)'],
    [{ kind: 'step-start' }, "the step's start"],
    [{ kind: 'interval', value: '-10s' }, '-10s'],
    [{ kind: 'timestamp', value: '2024-05-07 14:10:12.34' }, '2024-05-07 14:10:12.34'],
    [{ kind: 'follower-read' }, 'follower_read_timestamp()']
  ])('%j → %j', (asOf, text) => {
    expect(describeAsOf(asOf)).toBe(text)
  })
})
