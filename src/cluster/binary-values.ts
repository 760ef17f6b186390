/** Binary result values node-postgres has no parser for, or reads unchecked (connection.ts's binary types). */

/** An INT8 is 8 bytes big-endian; anything else is named here, not left to a buffer read's range error. */
export function int8Text(value: Buffer): string {
  if (value.length !== 8) throw new Error(`an INT8 value arrived as ${value.length} bytes, not 8 (not CockroachDB's binary format)`)
  return value.readBigInt64BE().toString()
}

/** A UUID's 16 bytes, written as text the way the text format does. */
export function uuidText(value: Buffer): string {
  const hex = value.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
