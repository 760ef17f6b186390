/** An emulator and the action's Session on it, opened by a test and closed after it. */
import { afterEach } from 'vitest'
import type { Session } from '../../src/cluster/connection.js'
import type { Emulator } from '../emulator/index.js'

/** What {@link emulatorSessionPerTest} hands the tests: a test sets either field; both are closed and cleared after it. */
export interface EmulatorSession {
  emulator: Emulator | undefined
  session: Session | undefined
}

/** Registers, in the file or `describe` that calls it, an afterEach that closes the session, then the emulator. */
export function emulatorSessionPerTest(): EmulatorSession {
  const held: EmulatorSession = { emulator: undefined, session: undefined }
  afterEach(async () => {
    await held.session?.close()
    await held.emulator?.close()
    held.session = undefined
    held.emulator = undefined
  })
  return held
}
