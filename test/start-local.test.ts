/**
 * `npm start` (scripts/start-local.ts) takes inputs as `--input name=value` or as INPUT_* variables
 * with underscores for hyphens, since npm runs scripts through sh, which drops INPUT_WAIT-TIMEOUT.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { localInputs } from '../scripts/start-local.js'
import { actionDefaults } from './support/run-action.js'

const root = new URL('..', import.meta.url).pathname
const declared = Object.keys(actionDefaults())
const run = promisify(execFile)

async function npmStart(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_'))
  )
  try {
    const { stdout, stderr } = await run('npm', ['start', '--silent', '--', ...args], { cwd: root, env: { ...inherited, ...env } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('localInputs', () => {
  it('reads --input name=value, keeping any = in the value, and INPUT_* names with _ or -', () => {
    expect(
      localInputs(['--input', 'wait-timeout=5', '--input', 'connection-string=postgresql://a@h/db?sslmode=disable'], {}, declared)
    ).toEqual({ 'wait-timeout': '5', 'connection-string': 'postgresql://a@h/db?sslmode=disable' })
    expect(
      localInputs([], { INPUT_WAIT_TIMEOUT: '7', 'INPUT_AS-OF-SYSTEM-TIME': '-1m', INPUT_DATABASE: 'movr', PATH: '/bin' }, declared)
    ).toEqual({
      'wait-timeout': '7',
      'as-of-system-time': '-1m',
      database: 'movr'
    })
  })

  it('lets the command line win over a variable', () => {
    expect(localInputs(['--input', 'timeout=9'], { INPUT_TIMEOUT: '1' }, declared)).toEqual({ timeout: '9' })
  })

  it('refuses names action.yml does not declare, and a pair without =', () => {
    expect(() => localInputs(['--input', 'wait-timeot=5'], {}, declared)).toThrow(
      /--input wait-timeot=5: expected name=value with a name from action\.yml/
    )
    expect(() => localInputs(['--input', 'timeout'], {}, declared)).toThrow(/--input timeout: expected name=value/)
    expect(() => localInputs([], { INPUT_WAIT_TIMEOT: '5' }, declared)).toThrow(/INPUT_WAIT_TIMEOT is not an input of action\.yml/)
  })
})

describe('npm start', () => {
  it('passes --input wait-timeout=… to the bundled action', async () => {
    const result = await npmStart(['--input', 'wait-timeout=abc'])
    expect(result.stdout).toContain(`::error::Input 'wait-timeout': "abc" is not a number of seconds (for example 60).`)
    expect(result.code).toBe(1)
  })

  it('passes INPUT_WAIT_TIMEOUT through npm and sh as the wait-timeout input', async () => {
    const result = await npmStart([], { INPUT_WAIT_TIMEOUT: 'xyz' })
    expect(result.stdout).toContain(`::error::Input 'wait-timeout': "xyz" is not a number of seconds (for example 60).`)
    expect(result.code).toBe(1)
  })
})
