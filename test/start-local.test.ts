/**
 * `npm start` (scripts/start-local.ts) takes inputs as `--input name=value` or as INPUT_* variables
 * with underscores for hyphens, since npm runs scripts through sh, which drops INPUT_WAIT-TIMEOUT.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReadableLog } from '../scripts/readable-log.js'
import { localInputs, withDefaultTarget } from '../scripts/start-local.js'
import { actionDefaults } from './support/run-action.js'

const root = new URL('..', import.meta.url).pathname
const declared = Object.keys(actionDefaults())
const run = promisify(execFile)

async function npmStart(
  args: string[],
  env: Record<string, string> = {},
  script = 'start'
): Promise<{ code: number; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('INPUT_') && !key.startsWith('GITHUB_'))
  )
  try {
    const { stdout, stderr } = await run('npm', ['run', script, '--silent', '--', ...args], { cwd: root, env: { ...inherited, ...env } })
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
    expect(result.stdout).toContain(`Error: Input 'wait-timeout': "abc" is not a number of seconds (for example 60).`)
    expect(result.code).toBe(1)
  })

  it('passes INPUT_WAIT_TIMEOUT through npm and sh as the wait-timeout input', async () => {
    const result = await npmStart([], { INPUT_WAIT_TIMEOUT: 'xyz' })
    expect(result.stdout).toContain(`Error: Input 'wait-timeout': "xyz" is not a number of seconds (for example 60).`)
    expect(result.code).toBe(1)
  })

  it("runs the README's commands: movr is there, tables alone work, and the log is readable", async () => {
    const movr = await npmStart(['--input', 'database=movr'])
    expect(movr.stdout).toContain('(databases bank and movr)')
    expect(movr.stdout).toMatch(/^ {2}backup-path: \/\d{4}\/\d\d\/\d\d-\d{6}\.\d\d$/m)
    expect(movr.stdout).not.toMatch(/^::|%0A/m)
    expect(movr.code).toBe(0)
    const tables = await npmStart(['--input', 'tables=bank.public.accounts'])
    expect(tables.stdout).toMatch(/^ {2}restore-statement: RESTORE TABLE bank\.public\.accounts FROM /m)
    expect(tables.code).toBe(0)
  })

  it('npm run start:restore restores what npm start downloaded, into an empty emulator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-local-'))
    try {
      const downloaded = join(dir, 'bank-backup')
      const backup = await npmStart(['--input', `download-path=${downloaded}`])
      const path = /^ {2}backup-path: (.+)$/m.exec(backup.stdout)?.[1]
      expect(path).toBeDefined()
      const restore = await npmStart(['--input', `source-path=${downloaded}`, '--input', `backup-path=${path!}`], {}, 'start:restore')
      expect(restore.stdout).toContain('(an empty cluster)')
      expect(restore.stdout).toMatch(/^ {2}restored-tables: .*bank\.public\.accounts/m)
      expect(restore.code).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('withDefaultTarget', () => {
  it('backs up bank only when neither database nor tables is given', () => {
    expect(withDefaultTarget({})).toEqual({ database: 'bank' })
    expect(withDefaultTarget({ tables: 'movr.public.users' })).toEqual({ tables: 'movr.public.users' })
    expect(withDefaultTarget({ database: 'movr' })).toEqual({ database: 'movr' })
  })
})

describe('ReadableLog', () => {
  it('turns workflow commands into plain lines, keeps stop-commands text as it is, and waits for whole lines', () => {
    const log = new ReadableLog()
    const out = [
      log.write('::add-mask::s3cret\n::group::Connecting%0Ato the cluster\nplain line\n::endgroup::\n::err'),
      log.write('or::two%0Alines 100%25\n::stop-commands::t0k\n::warning::not a command here\n::t0k::\n::notice title=x::noted'),
      log.end()
    ].join('')
    expect(out).toBe('▸ Connecting\nto the cluster\nplain line\nError: two\nlines 100%\n::warning::not a command here\nNotice: noted\n')
  })
})
