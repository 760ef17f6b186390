/**
 * src/base/log.ts, the one output path: what it prints can show any text and never issue a workflow
 * command (checked with a model of the runner's command parsing), and eslint keeps it the only path.
 */
import { ESLint } from 'eslint'
import tseslint from 'typescript-eslint'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as log from '../../src/base/log.js'
import { foreignCommands, runnerCommands } from '../support/workflow-commands.js'
import { ROOT } from '../support/run-action.js'

const HOSTILE = [
  '::warning::pwned',
  'text\n::add-mask::pwned',
  'text\r::set-output name=x::pwned',
  'text\r\n  ::error title=x::pwned',
  '\t::stop-commands::abc\n::warning::pwned',
  'progress ##[warning]pwned',
  'a ::notice::b',
  '::group::pwned\n::endgroup::'
]

let written = ''
const write = process.stdout.write.bind(process.stdout)
beforeEach(() => {
  written = ''
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
})
afterEach(() => {
  process.stdout.write = write
  process.exitCode = undefined
})

describe('log.info', () => {
  for (const text of HOSTILE) {
    it(`shows ${JSON.stringify(text)} and runs nothing from it`, () => {
      log.info(`Connected to ${text}.`)
      expect(foreignCommands(written)).toEqual([])
      // The text is still there to read, line for line.
      for (const line of text.split(/\r\n|\r|\n/)) expect(written).toContain(line)
    })
  }

  it('prints plain text exactly, with no markers', () => {
    log.info('Backup job 123: running, 50% done\nHint: wait')
    expect(written).toBe('Backup job 123: running, 50% done\nHint: wait\n')
    expect(runnerCommands(written)).toEqual([])
  })

  it('picks a resume token that the text does not contain, so the text cannot end the block', () => {
    log.info('::warning::pwned')
    const [stop] = runnerCommands(written)
    expect(stop?.name).toBe('stop-commands')
    expect(stop?.data).toMatch(/^[0-9a-f]{32}$/)
    expect(written.endsWith(`::${stop?.data}::\n`)).toBe(true)
  })

  it('would be caught by the runner model without it', () => {
    // The model itself must see the attack, or the tests above prove nothing.
    expect(foreignCommands('x\n  ::warning::pwned\n').map(c => c.name)).toEqual(['warning'])
    expect(foreignCommands('x ##[set-env name=A]b\n').map(c => c.name)).toEqual(['set-env'])
  })
})

describe('annotations, debug, group titles and the failure', () => {
  for (const text of HOSTILE) {
    it(`keep ${JSON.stringify(text)} as one command's data`, async () => {
      log.warning(text)
      log.debug(text)
      log.fail(text)
      await log.group(text, () => Promise.resolve())
      expect(runnerCommands(written).map(c => c.name)).toEqual(['warning', 'debug', 'error', 'group', 'endgroup'])
      expect(runnerCommands(written)[0]?.data).toBe(text)
      expect(process.exitCode).toBe(1)
    })
  }
})

describe('eslint keeps src/base/log.ts the only output path', () => {
  const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] })
  async function problems(code: string, filePath = 'src/anything.ts'): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath })
    return (result?.messages ?? []).map(m => `${m.ruleId ?? 'parse'}: ${m.message}`)
  }
  const bypasses = {
    'core.info': "import * as core from '@actions/core'\nexport const f = (x: string): void => core.info(x)\n",
    'core.setFailed': "import * as core from '@actions/core'\nexport const f = (x: string): void => core.setFailed(x)\n",
    'core.group': "import * as core from '@actions/core'\nexport const f = (x: string): Promise<void> => core.group(x, async () => {})\n",
    'a named import': "import { notice } from '@actions/core'\nexport const f = (x: string): void => notice(x)\n",
    'a renamed namespace': "import * as c from '@actions/core'\nexport const f = (x: string): void => c.info(x)\n",
    'console.log': 'export const f = (x: string): void => console.log(x)\n',
    'process.stdout': 'export const f = (x: string): boolean => process.stdout.write(x)\n',
    '@actions/exec': "import * as exec from '@actions/exec'\nexport const f = (): Promise<number> => exec.exec('ls')\n"
  }
  for (const [name, code] of Object.entries(bypasses)) {
    it(`refuses ${name} outside src/base/log.ts`, async () => {
      expect((await problems(code)).join('\n')).toMatch(/no-restricted-(syntax|imports)/)
    })
  }
  it('lets src/base/log.ts print and the other modules use the rest of @actions/core', async () => {
    expect(await problems(bypasses['core.info'], 'src/base/log.ts')).toEqual([])
    expect(await problems("import * as core from '@actions/core'\nexport const f = (x: string): void => core.setSecret(x)\n")).toEqual([])
  })
})
