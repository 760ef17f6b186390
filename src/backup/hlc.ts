/**
 * CockroachDB's decimal HLC timestamps, as cluster_logical_timestamp() returns them and AS OF
 * SYSTEM TIME accepts them: `<wall time in ns>.<logical counter, 10 digits>`
 * (TimestampToDecimal in pkg/sql/sem/eval/context.go, pkg/sql/sem/tree/eval.go before v22.2).
 * Kept as bigint: nanoseconds since 1970 exceed 2^53.
 */
export interface Hlc {
  wallNs: bigint
  logical: bigint
}

const DECIMAL = /^(\d{1,19})(?:\.(\d{1,10}))?$/

export function parseHlc(text: string): Hlc | undefined {
  const match = DECIMAL.exec(text.trim())
  if (!match?.[1]) return undefined
  return { wallNs: BigInt(match[1]), logical: BigInt((match[2] ?? '').padEnd(10, '0') || '0') }
}

/** The exact text AS OF SYSTEM TIME reads back as the same timestamp. */
export function formatHlc(hlc: Hlc): string {
  return `${hlc.wallNs}.${String(hlc.logical).padStart(10, '0')}`
}

export function addMs(hlc: Hlc, ms: number): Hlc {
  return { wallNs: hlc.wallNs + BigInt(Math.round(ms * 1_000_000)), logical: hlc.logical }
}

/**
 * The first whole microsecond, with no logical part, at or after `hlc`. RESTORE without revision
 * history takes only a layer's exact end time, logical part included, while SHOW BACKUP prints end
 * times to the microsecond and without it (facts, point-in-time restore; second reading R4-6): a
 * backup ending on a whole microsecond can be named again.
 */
export function wholeMicrosecondAfter(hlc: Hlc): Hlc {
  const rest = hlc.wallNs % 1000n
  if (rest === 0n && hlc.logical === 0n) return hlc
  return { wallNs: hlc.wallNs - rest + 1000n, logical: 0n }
}

/** Milliseconds from `from` to `to` (negative when `to` is earlier). */
export function msBetween(from: Hlc, to: Hlc): number {
  return Number(to.wallNs - from.wallNs) / 1_000_000
}

export function notBefore(a: Hlc, b: Hlc): boolean {
  return a.wallNs > b.wallNs || (a.wallNs === b.wallNs && a.logical >= b.logical)
}

/** ISO 8601 in UTC, to the millisecond (truncated), for people. */
export function hlcToIso(hlc: Hlc): string {
  return new Date(Number(hlc.wallNs / 1_000_000n)).toISOString()
}

export function hlcFromDate(date: Date): Hlc {
  return { wallNs: BigInt(date.getTime()) * 1_000_000n, logical: 0n }
}
