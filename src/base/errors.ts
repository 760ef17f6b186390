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

/** The workflow was cancelled (SIGINT/SIGTERM from the runner) while the action was doing something. */
export class CancelledError extends ActionError {
  constructor(
    readonly signalName: string,
    doing: string
  ) {
    super(`The workflow was cancelled (${signalName}) while ${doing}.`)
    this.name = 'CancelledError'
  }
}

/** The signal's name, as watchSignals gives it as the abort reason. */
export function abortReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'signal'
}

/**
 * `work` unless the signal aborts first: then `onAbort` runs (to drop whatever is still waiting, a
 * hung query's connection) and the result is a CancelledError. Never waits for `work` to give up.
 */
export async function unlessCancelled<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  doing: string,
  onAbort: () => void = () => undefined
): Promise<T> {
  if (signal === undefined) return work
  if (signal.aborted) {
    work.catch(() => undefined) // abandoned: its own failure no longer matters
    onAbort()
    throw new CancelledError(abortReason(signal), doing)
  }
  let listener: (() => void) | undefined
  const cancelled = new Promise<never>((_, reject) => {
    listener = () => {
      onAbort()
      reject(new CancelledError(abortReason(signal), doing))
    }
    signal.addEventListener('abort', listener, { once: true })
  })
  work.catch(() => undefined) // if the cancel wins, the abandoned work's failure is not the story
  try {
    return await Promise.race([work, cancelled])
  } finally {
    if (listener) signal.removeEventListener('abort', listener)
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
  // An ActionError (a QueryError among them) already carries the SQLSTATE and hint in its message.
  if (error instanceof ActionError || error instanceof InputError) return error.message
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

const FILE_SYSTEM_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'a directory is in the way where a file belongs',
  ENAMETOOLONG: 'the path (or one of its names) is too long for the file system',
  EACCES: 'the runner user may not write there (permission denied)',
  EPERM: 'the operation is not permitted there',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EEXIST: 'something already exists at that path',
  ELOOP: 'the path has a loop of symbolic links'
}

/**
 * A Node file-system error as a message naming the path and the problem; anything else unchanged.
 * `fallbackPath` is used when the error does not carry one.
 */
export function fileSystemError(error: unknown, fallbackPath: string): unknown {
  if (!(error instanceof Error) || error instanceof ActionError || error instanceof InputError) return error
  const { code, path } = error as NodeJS.ErrnoException
  const problem = code === undefined ? undefined : FILE_SYSTEM_PROBLEMS[code]
  if (problem === undefined) return error
  return new ActionError(`${path ?? fallbackPath}: ${problem} (${code ?? ''}).`)
}

/** A local path checked while the inputs are read: what it says of the path becomes the input's error. */
export function asInputError(error: unknown, input: string, path: string): unknown {
  const explained = fileSystemError(error, path)
  return explained instanceof ActionError ? new InputError(input, explained.message) : explained
}
