/**
 * What one test makes and the next must not see: emulators and temporary directories, closed and
 * removed after each test of the file that calls `scratchPerTest` (at its top level).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { Emulator } from '../emulator/index.js'

export interface Scratch {
  /** Emulators to close after the test. */
  emulators: Emulator[]
  /** A new temporary directory, removed after the test. */
  tempDir: () => string
}

export function scratchPerTest(prefix: string): Scratch {
  const emulators: Emulator[] = []
  const dirs: string[] = []
  afterEach(async () => {
    await Promise.all(emulators.splice(0).map(emu => emu.close()))
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  return {
    emulators,
    tempDir: () => {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(dir)
      return dir
    }
  }
}
