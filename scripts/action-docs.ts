/**
 * The README's inputs and outputs tables, generated from action.yml and restore/action.yml so they
 * cannot drift. `npm run docs` rewrites the README between each file's markers; a test fails when
 * they differ. It also copies each example workflow into the yaml block after its
 * `<!-- example: examples/… -->` marker (test/workflows.test.ts lints those files and compares).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { parse } from 'yaml'

interface Spec {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
}

export const ACTION_FILES = ['action.yml', 'restore/action.yml']

/** Each page with generated parts, and the action files whose tables it shows. */
export const DOC_PAGES: Record<string, string[]> = { 'README.md': ACTION_FILES, 'restore/README.md': ['restore/action.yml'] }

export const start = (file: string): string => `<!-- action-docs:start (generated from ${file} by npm run docs) -->`
export const end = (file: string): string => `<!-- action-docs:end ${file} -->`

const cell = (text: string): string => text.replace(/\s+/g, ' ').trim().replaceAll('|', '\\|')

export function renderActionDocs(actionYml: string, file = 'action.yml'): string {
  const spec = parse(actionYml) as Spec
  const inputs = Object.entries(spec.inputs).map(
    ([name, input]) =>
      `| \`${name}\` | ${input.required ? 'required' : input.default ? `\`${cell(input.default)}\`` : ''} | ${cell(input.description)} |`
  )
  const outputs = Object.entries(spec.outputs).map(([name, output]) => `| \`${name}\` | ${cell(output.description)} |`)
  return [
    start(file),
    '#### Inputs',
    '',
    '| name | default | description |',
    '| --- | --- | --- |',
    ...inputs,
    '',
    '#### Outputs',
    '',
    '| name | description |',
    '| --- | --- |',
    ...outputs,
    end(file)
  ].join('\n')
}

export function replaceGenerated(readme: string, file: string, generated: string): string {
  const from = readme.indexOf(start(file))
  const to = readme.indexOf(end(file))
  if (from === -1 || to === -1) throw new Error(`the page lacks the action-docs markers for ${file}`)
  return readme.slice(0, from) + generated + readme.slice(to + end(file).length)
}

/** Replaces the yaml block after each `<!-- example: <path> -->` marker with that file's text. */
export function copyExamples(readme: string, read: (path: string) => string): string {
  return readme.replace(
    /(<!-- example: (examples\/[\w.-]+\.yml) -->\n+```yaml\n)[\s\S]*?```/g,
    (_block, head: string, path: string) => `${head}${read(path)}\`\`\``
  )
}

if (process.argv[1]?.endsWith('action-docs.ts')) {
  for (const [page, files] of Object.entries(DOC_PAGES)) {
    let text = readFileSync(page, 'utf8')
    for (const file of files) text = replaceGenerated(text, file, renderActionDocs(readFileSync(file, 'utf8'), file))
    text = copyExamples(text, path => readFileSync(path, 'utf8'))
    writeFileSync(page, text)
  }
}
