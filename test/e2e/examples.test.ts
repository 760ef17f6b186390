/**
 * The example workflows in examples/ (each one also a README block), run as written as far as this
 * machine allows. Each job gets a fresh emulator in place of its CockroachDB (the service container,
 * the `docker run`, or the cluster behind `secrets.COCKROACH_URL`), so `connection-string` is the
 * emulator's. The action's steps run the bundles with the example's other inputs, and `${{ }}` is
 * filled in from earlier steps' and jobs' outputs. Artifacts are copied between jobs. Shell steps do
 * not run (no Docker here), so one of them must visibly set up the database the job backs up, and
 * every output that a shell step reads must be set.
 */
import { cpSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { startEmulator } from '../emulator/index.js'
import { ROOT, runBundledAction } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf } from '../support/run-in-process.js'

const { emulators, tempDir } = scratchPerTest('e2e-examples-')

interface Step {
  id?: string
  name?: string
  uses?: string
  run?: string
  if?: string
  with?: Record<string, string | number | boolean>
  env?: Record<string, string>
}
interface Job {
  needs?: string
  services?: unknown
  env?: Record<string, string>
  outputs?: Record<string, string>
  steps: Step[]
}

const BACKUP_ACTION = '<owner>/cockroach-userfile-backup-action@v1'
const RESTORE_ACTION = '<owner>/cockroach-userfile-backup-action/restore@v1'
const SECRETS: Record<string, string> = { BACKUP_PASSPHRASE: 'correct horse battery staple' }

/** A step that visibly makes the database the job then backs up (or says that the user's own set-up does). */
const SETS_UP_BANK = /CREATE DATABASE IF NOT EXISTS bank|load-fixtures\.sh/

interface Context {
  steps: Record<string, Record<string, string>>
  needs: Record<string, Record<string, string>>
  env: Record<string, string>
  runnerTemp: string
  clusterUrl: string
}

function evaluate(text: string, context: Context): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_whole, expression: string) => {
    const [scope, name, field, key] = expression.split('.')
    const value =
      scope === 'steps' && field === 'outputs'
        ? context.steps[name ?? '']?.[key ?? '']
        : scope === 'needs' && field === 'outputs'
          ? context.needs[name ?? '']?.[key ?? '']
          : scope === 'secrets'
            ? name === 'COCKROACH_URL'
              ? context.clusterUrl
              : SECRETS[name ?? '']
            : scope === 'env'
              ? context.env[name ?? '']
              : scope === 'runner' && name === 'temp'
                ? context.runnerTemp
                : scope === 'github' && (name === 'run_id' || name === 'run_attempt')
                  ? name === 'run_id'
                    ? '4242'
                    : '1'
                  : undefined
    if (value === undefined) throw new Error(`the example's expression ${expression} has no value here`)
    return value
  })
}

const examples = ['quick-start.yml', 'nightly.yml', 'round-trip.yml', 'rollback.yml', 'docker-run.yml', 'container-job.yml']

describe('the example workflows, run against the emulator', () => {
  it('cover every example but pre-deploy.yml, which needs a CockroachDB Cloud cluster and its certificates', () => {
    const all = [
      'container-job.yml',
      'docker-run.yml',
      'nightly.yml',
      'pre-deploy.yml',
      'quick-start.yml',
      'rollback.yml',
      'round-trip.yml'
    ]
    expect([...examples, 'pre-deploy.yml'].sort()).toEqual(all)
  })

  it.each(examples)('%s runs as written', async name => {
    const workflow = parse(readFileSync(join(ROOT, 'examples', name), 'utf8')) as { jobs: Record<string, Job> }
    const needs: Record<string, Record<string, string>> = {}
    const artifacts = new Map<string, string>()
    for (const [jobName, job] of Object.entries(workflow.jobs)) {
      const emu = await startEmulator({ profile: 'v26.2', jobDurationMs: 100 })
      emulators.push(emu)
      const firstBackup = job.steps.findIndex(step => step.uses === BACKUP_ACTION)
      const ownCluster = job.services !== undefined || job.steps.some(step => step.run?.includes('docker run'))
      if (firstBackup >= 0) {
        if (ownCluster) {
          const setUp = job.steps.slice(0, firstBackup).some(step => SETS_UP_BANK.test(`${step.name ?? ''} ${step.run ?? ''}`))
          expect(setUp, `${name}: job ${jobName} backs up bank from a cluster it starts, but no step before creates bank`).toBe(true)
        }
        emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
      }
      const context: Context = { steps: {}, needs, env: {}, runnerTemp: tempDir(), clusterUrl: emu.connectionString() }
      for (const [key, value] of Object.entries(job.env ?? {})) context.env[key] = evaluate(value, context)
      for (const step of job.steps) {
        // The emulator stands in for the cluster, so connection-string is its own, whatever the example says.
        const given = Object.entries(step.with ?? {}).filter(([key]) => key !== 'connection-string')
        const inputs = Object.fromEntries(given.map(([key, value]) => [key, evaluate(String(value), context)]))
        if (step.uses === BACKUP_ACTION || step.uses === RESTORE_ACTION) {
          const restore = step.uses === RESTORE_ACTION
          const run = await runBundledAction({
            inputs: { ...inputs, 'connection-string': context.clusterUrl },
            script: join(ROOT, restore ? 'dist/restore/index.js' : 'dist/index.js'),
            actionYml: join(ROOT, restore ? 'restore/action.yml' : 'action.yml')
          })
          expect(errorsOf(run.stdout), `${name}: ${jobName}/${step.id ?? step.uses}`).toEqual([])
          expect(run.exitCode).toBe(0)
          if (step.id !== undefined) context.steps[step.id] = run.outputs
        } else if (step.uses?.startsWith('actions/upload-artifact@')) {
          artifacts.set(String(inputs['name']), String(inputs['path']))
        } else if (step.uses?.startsWith('actions/download-artifact@')) {
          const from = artifacts.get(String(inputs['name']))
          expect(from, `${name}: artifact ${inputs['name']} was never uploaded`).toBeDefined()
          cpSync(from!, String(inputs['path']), { recursive: true })
        } else if (step.run !== undefined) {
          // Not run here; what it reads from the action must be there.
          for (const [key, value] of Object.entries(step.env ?? {})) {
            expect(evaluate(value, context), `${name}: ${jobName} step reads ${key} = ${value}`).not.toBe('')
          }
        }
      }
      needs[jobName] = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([key, value]) => [key, evaluate(value, context)]))
    }
  })

  it('docker-run.yml leaves nothing behind on a shared self-hosted runner: its own container name, a free port, removal', () => {
    const workflow = parse(readFileSync(join(ROOT, 'examples/docker-run.yml'), 'utf8')) as { jobs: Record<string, Job> }
    const [job] = Object.values(workflow.jobs)
    expect(job?.env?.['ROACH']).toContain('${{ github.run_id }}')
    const start = job?.steps.find(step => step.run?.includes('docker run'))?.run ?? ''
    expect(start).toContain('--name "$ROACH"')
    expect(start).toMatch(/-p 127\.0\.0\.1::26257 /)
    expect(job?.steps.at(-1)).toEqual({ if: 'always()', run: 'docker rm -f "$ROACH"' })
  })
})
