/**
 * Checks, after a whole test file, that no statement any emulator received names crdb_internal or
 * system: v26.1+ refuses both to ordinary sessions (PR #158085), so the action must use only
 * supported interfaces on every version, whatever profile a test happened to pick.
 */
import { afterAll, expect } from 'vitest'
import { statementsReceivedByAllEmulators } from '../emulator/index.js'

const INTERNAL_NAME = /\b(crdb_internal|system)\s*\.|"(crdb_internal|system)"\s*\./i

export function expectNoInternalsInAnyStatement(): void {
  afterAll(() => {
    // Filtered runs (-t) may send nothing; that statements are collected at all is checked in test/emulator/session.test.ts.
    const statements = statementsReceivedByAllEmulators().map(s => s.redactedSql)
    expect(statements.filter(sql => INTERNAL_NAME.test(sql))).toEqual([])
  })
}
