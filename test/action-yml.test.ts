/** action.yml and the code spell every input and output the same way, and defaults agree. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  DEFAULT_AS_OF_SYSTEM_TIME,
  DEFAULT_CONNECTION_STRING,
  Inputs,
  Outputs,
  RestoreInputs,
  RestoreOutputs
} from '../src/base/constants.js'

interface ActionYml {
  name: string
  description: string
  branding: { icon: string; color: string }
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8')) as ActionYml

describe('action.yml', () => {
  it('declares exactly the inputs the code reads', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(Inputs).sort())
  })

  it('declares exactly the outputs the code sets', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort())
  })

  it('describes every input and output, in kebab-case', () => {
    for (const [name, spec] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)]) {
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/)
      expect(spec.description.length, name).toBeGreaterThan(10)
    }
  })

  it('has the defaults the code falls back to', () => {
    expect(action.inputs[Inputs.ConnectionString]?.default).toBe(DEFAULT_CONNECTION_STRING)
    expect(action.inputs[Inputs.AsOfSystemTime]?.default).toBe(DEFAULT_AS_OF_SYSTEM_TIME)
    expect(action.inputs[Inputs.Incremental]?.default).toBe('false')
    expect(action.inputs[Inputs.WaitTimeout]?.default).toBe('60')
    expect(action.inputs[Inputs.Timeout]?.default).toBe('3600')
  })

  it('runs the committed bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
    expect(action.branding.icon).toBeTruthy()
  })
})

describe('README', () => {
  it('shows the inputs and outputs tables generated from both action.yml files (npm run docs)', async () => {
    const { ACTION_FILES, renderActionDocs } = await import('../scripts/action-docs.js')
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(ACTION_FILES).toEqual(['action.yml', 'restore/action.yml'])
    for (const file of ACTION_FILES) {
      expect(readme).toContain(renderActionDocs(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'), file))
    }
  })

  it("restore/README.md shows the restore companion's tables, generated from restore/action.yml", async () => {
    const { DOC_PAGES, renderActionDocs } = await import('../scripts/action-docs.js')
    expect(DOC_PAGES['restore/README.md']).toEqual(['restore/action.yml'])
    const page = readFileSync(new URL('../restore/README.md', import.meta.url), 'utf8')
    expect(page).toContain(renderActionDocs(readFileSync(new URL('../restore/action.yml', import.meta.url), 'utf8'), 'restore/action.yml'))
  })

  it('starts where a user starts: a description, the contents, then the uses; set-up commands first in Development', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map(m => m[1])
    expect(sections.slice(0, 3)).toEqual(['Contents', 'Use it', 'Requirements'])
    expect(sections.at(-2)).toBe('Development')
    const anchor = (heading: string): string =>
      heading
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replaceAll(' ', '-')
    const anchors = new Set([...readme.matchAll(/^#{2,4} (.+)$/gm)].map(m => anchor(m[1] ?? '')))
    const links = [...readme.matchAll(/\]\(#([\w-]+)\)/g)].map(m => m[1] ?? '')
    expect(links.filter(link => !anchors.has(link))).toEqual([])
    const contents = readme.slice(readme.indexOf('## Contents'), readme.indexOf('## Use it'))
    expect(contents).toContain('[Development](#development)')
    const development = readme.slice(readme.indexOf('## Development'))
    expect(development.split('\n').slice(0, 12).join('\n')).toMatch(/npm ci && npm start[\s\S]*npm test/)
  })

  it('gives the two set-up commands', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toMatch(/npm ci && npm start/)
    expect(readme).toMatch(/npm test/)
  })
})

describe('restore/action.yml', () => {
  const restore = parse(readFileSync(new URL('../restore/action.yml', import.meta.url), 'utf8')) as ActionYml
  const backupOnly: string[] = [
    Inputs.AsOfSystemTime,
    Inputs.MaxClockOffset,
    Inputs.Subdirectory,
    Inputs.Incremental,
    Inputs.FullEvery,
    Inputs.RevisionHistory,
    Inputs.DownloadPath,
    Inputs.DownloadConnections,
    Inputs.KeepBackups,
    Inputs.VerifyRestore
  ]

  it('declares the shared inputs, spelled and defaulted as in action.yml, plus its own', () => {
    const shared = Object.values(Inputs).filter(name => !backupOnly.includes(name))
    expect(Object.keys(restore.inputs).sort()).toEqual([...shared, ...Object.values(RestoreInputs)].sort())
    for (const name of shared) expect(restore.inputs[name]?.default, name).toBe(action.inputs[name]?.default)
    expect(restore.inputs[RestoreInputs.BackupPath]?.required).toBe(true)
  })

  it('declares exactly the outputs the code sets, and runs the restore bundle on node24', () => {
    expect(Object.keys(restore.outputs).sort()).toEqual(Object.values(RestoreOutputs).sort())
    expect(restore.runs).toEqual({ using: 'node24', main: '../dist/restore/index.js' })
    for (const spec of [...Object.values(restore.inputs), ...Object.values(restore.outputs)])
      expect(spec.description.length).toBeGreaterThan(10)
  })
})
