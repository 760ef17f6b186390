/** A problem with one input: the message names the input and what it accepts. */
export class InputError extends Error {
  readonly inputs: string[]
  constructor(input: string | string[], detail: string) {
    const inputs = typeof input === 'string' ? [input] : input
    const names = inputs.map(name => `'${name}'`).join(inputs.length > 2 ? ', ' : ' and ')
    super(`Input${inputs.length > 1 ? 's' : ''} ${names}: ${detail}`)
    this.name = 'InputError'
    this.inputs = inputs
  }
}

/** A failure the user can act on: what the action was doing, what went wrong, and a hint. */
export class ActionError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown }
  ) {
    super(hint === undefined ? message : `${message}\nHint: ${hint}`, options)
    this.name = 'ActionError'
  }
}

/** The parts of a driver error worth showing: CockroachDB's message, SQLSTATE, detail and hint. */
export interface DatabaseErrorFields {
  message: string
  code?: string
  detail?: string
  hint?: string
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

export function databaseErrorFields(error: unknown): DatabaseErrorFields {
  if (!isRecord(error)) return { message: String(error) }
  const text = (key: string): string | undefined => (typeof error[key] === 'string' ? error[key] : undefined)
  return {
    message: text('message') ?? JSON.stringify(error),
    code: text('code'),
    detail: text('detail'),
    hint: text('hint')
  }
}

/** "message (SQLSTATE XXUUU)" plus CockroachDB's detail and hint, when it sent them. */
export function describeError(error: unknown): string {
  const { message, code, detail, hint } = databaseErrorFields(error)
  // Node socket errors carry codes like ECONNREFUSED; only five-character codes are SQLSTATEs.
  const sqlstate = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''
  const lines = [`${message}${sqlstate}`]
  if (detail) lines.push(`Detail: ${detail}`)
  if (hint) lines.push(`CockroachDB hint: ${hint}`)
  return lines.join('\n')
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
