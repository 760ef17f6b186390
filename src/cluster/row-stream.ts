/**
 * Hands a query's rows to `onRow` one at a time, in order: while a row's promise is pending the
 * socket is paused, so at most about one row is held in memory however many the query returns.
 * Fails when no row arrives for `idleTimeoutMs` (a timeout on progress, not on the whole query),
 * and at once when the signal aborts; after a failure the connection is abandoned, since the query
 * may still be sending rows on it. Driver-free: connection.ts passes node-postgres' query and socket.
 */
import type { EventEmitter } from 'node:events'
import { QueryError } from './connect-policy.js'
import { abortReason, ActionError, CancelledError, describeError } from '../base/errors.js'

export interface PumpOptions<Row> {
  /** Completes "while …" in the error message. */
  doing: string
  idleTimeoutMs: number
  signal: AbortSignal | undefined
  onRow: (row: Row) => Promise<void>
  /** Closes the connection the rows come over. */
  abandon: () => void
  /** Sends the query, once every listener is in place. */
  start: () => void
}

export async function pumpRows<Row>(
  source: EventEmitter,
  socket: { pause(): unknown; resume(): unknown },
  options: PumpOptions<Row>
): Promise<void> {
  const signal = options.signal
  let onAbort: (() => void) | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false
      let timer: NodeJS.Timeout | undefined
      let consumed: Promise<void> = Promise.resolve()
      const fail = (error: unknown): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.resume()
        options.abandon() // the query may still be streaming; this connection is done
        reject(error instanceof ActionError ? error : new QueryError(`While ${options.doing}: ${describeError(error)}`, error))
      }
      const arm = (): void => {
        clearTimeout(timer)
        timer = setTimeout(
          () =>
            fail(
              new QueryError(
                `While ${options.doing}: no data for ${Math.round(options.idleTimeoutMs / 1000)} s`,
                new Error('Query read timeout')
              )
            ),
          options.idleTimeoutMs
        )
      }
      source.on('row', (row: Row) => {
        if (settled) return
        arm()
        socket.pause()
        consumed = consumed.then(() => (settled ? undefined : options.onRow(row)))
        consumed.then(() => {
          if (!settled) socket.resume()
        }, fail)
      })
      source.on('error', fail)
      if (signal !== undefined) {
        onAbort = (): void => fail(new CancelledError(abortReason(signal), options.doing))
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
      }
      source.on('end', () => {
        consumed.then(() => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve()
        }, fail)
      })
      arm()
      options.start()
    })
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}
