/**
 * The README's inputs and outputs tables, generated from action.yml so they cannot drift.
 * `npm run docs` rewrites the README between the markers; a test fails when they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parse } from 'yaml'

interface Spec {
  inputs: Record<string, { description: string; default?: string }>
  outputs: Record<string, { description: string }>
}

export const START = '<!-- action-docs:start (generated from action.yml by npm run docs) -->'
export const END = '<!-- action-docs:end -->'

const cell = (text: string): string => text.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|')

export function renderActionDocs(actionYml: string): string {
  const spec = parse(actionYml) as Spec
  const inputs = Object.entries(spec.inputs).map(
    ([name, input]) => `| \`${name}\` | ${input.default ? `\`${cell(input.default)}\`` : ''} | ${cell(input.description)} |`
  )
  const outputs = Object.entries(spec.outputs).map(([name, output]) => `| \`${name}\` | ${cell(output.description)} |`)
  return [
    START,
    '### Inputs',
    '',
    '| name | default | description |',
    '| --- | --- | --- |',
    ...inputs,
    '',
    '### Outputs',
    '',
    '| name | description |',
    '| --- | --- |',
    ...outputs,
    END
  ].join('\n')
}

export function replaceGenerated(readme: string, generated: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end === -1) throw new Error('README.md lacks the action-docs markers')
  return readme.slice(0, start) + generated + readme.slice(end + END.length)
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const readme = readFileSync('README.md', 'utf8')
  writeFileSync('README.md', replaceGenerated(readme, renderActionDocs(readFileSync('action.yml', 'utf8'))))
}
