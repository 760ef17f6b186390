/**
 * A hostile cluster and hostile inputs: every value the cluster sends (and every input) carries a
 * line break followed by workflow commands. Whatever the action makes of it (success or a failure),
 * the runner model must find no command in its output but the action's own, and the job summary
 * no HTML from outside.
 */
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runRestore } from '../../src/restore/run.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { runBundledAction } from '../support/run-action.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'
import { foreignCommands } from '../support/workflow-commands.js'

const { emulators, tempDir } = scratchPerTest('e2e-hostile-')

const ATTACK = '\n::warning::pwned\r::add-mask::pwned\r\n  ::set-output name=x::pwned\n##[set-env name=X]pwned <img src=x onerror=alert(1)>'

async function bank(jobDurationMs = 150): Promise<Emulator> {
  const emu = await startEmulator({ profile: 'v23.2', jobDurationMs })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
  return emu
}

function expectInert(run: { stdout: string; summary: string }): void {
  expect(foreignCommands(run.stdout)).toEqual([])
  expect(run.summary).not.toContain('<img')
}

/**
 * Every column the action reads from the cluster during a backup and a download, and whether the
 * tampered value reaches the log or the summary (the others only steer the action).
 */
const BACKUP_COLUMNS: [string, boolean][] = [
  ['version', true],
  ['current_user', true],
  ['job_id', true],
  ['status', true],
  ['description', false],
  ['error', true],
  ['path', false],
  ['database_name', true],
  ['parent_schema_name', true],
  ['object_name', true],
  ['object_type', false],
  ['backup_type', false],
  ['start_time', false],
  ['end_time', true],
  ['filename', true]
]

describe('a cluster that puts workflow commands into every value it sends', () => {
  for (const [column, shown] of BACKUP_COLUMNS) {
    it(`backup with download: ${column}`, async () => {
      const emu = await bank()
      if (column === 'error') emu.failNextJob({ message: `disk full${ATTACK}` })
      // A status only gets the attack while running, so the job can still end; a file name only
      // on a data file, so the download gets that far.
      const target = (name: string, value: string): boolean =>
        name === column && (name !== 'status' || value === 'running') && (name !== 'filename' || value.endsWith('.sst'))
      emu.tamperResults((name, value) => (target(name, value) ? value + ATTACK : value))
      const run = await runInProcess({
        database: 'bank',
        'download-path': join(tempDir(), 'backup'),
        timeout: '5',
        'connection-string': emu.connectionString()
      })
      expectInert(run)
      // Where the value is shown, the attack reached the output, or this test would prove nothing.
      if (shown) expect(run.stdout + run.summary).toContain('pwned')
    })
  }

  it('every column at once, during a restore', async () => {
    const source = await bank()
    const downloaded = join(tempDir(), 'backup')
    const backup = await runInProcess({ database: 'bank', 'download-path': downloaded, 'connection-string': source.connectionString() })
    expect(backup.exitCode).toBe(0)
    const target = await bank()
    target.tamperResults((name, value) => ((name === 'status' && value !== 'running') || name === 'job_id' ? value : value + ATTACK))
    const run = await runInProcess(
      {
        database: 'bank',
        'backup-path': backup.outputs['backup-path'] ?? '',
        'source-path': downloaded,
        'new-db-name': 'bank2',
        'connection-string': target.connectionString()
      },
      runRestore
    )
    expectInert(run)
    expect(run.stdout).toContain('pwned')
  })
})

describe('inputs that carry workflow commands', () => {
  const attack = ATTACK.replaceAll('<img src=x onerror=alert(1)>', '')
  const cases: [string, (emu: Emulator) => Record<string, string>][] = [
    ['database', emu => ({ database: `bank${attack}`, 'connection-string': emu.connectionString() })],
    ['tables', emu => ({ tables: `bank.public."acc${attack}"`, 'connection-string': emu.connectionString() })],
    ['subdirectory', emu => ({ database: 'bank', subdirectory: `x${attack}`, 'connection-string': emu.connectionString() })],
    [
      'collection',
      emu => ({
        database: 'bank',
        collection: `userfile://defaultdb.public.userfiles_root/b${attack}`,
        'connection-string': emu.connectionString()
      })
    ],
    ['connection-string user', emu => ({ database: 'bank', 'connection-string': emu.connectionString(`u${attack}`) })],
    [
      'download-path',
      emu => ({ database: 'bank', 'download-path': join(tempDir(), `d${attack}`), 'connection-string': emu.connectionString() })
    ],
    ['as-of-system-time', emu => ({ database: 'bank', 'as-of-system-time': `-10s${attack}`, 'connection-string': emu.connectionString() })]
  ]
  for (const [name, inputs] of cases) {
    it(`backup: ${name}`, async () => {
      const emu = await bank()
      const run = await runInProcess(inputs(emu))
      expectInert(run)
      expect(run.stdout).toContain('pwned')
    })
  }

  const restoreCases: [string, (emu: Emulator, path: string) => Record<string, string>][] = [
    [
      'backup-path',
      emu => ({ database: 'bank', 'backup-path': `/2024/01/01-000000.00${attack}`, 'connection-string': emu.connectionString() })
    ],
    [
      'new-db-name',
      (emu, path) => ({ database: 'bank', 'backup-path': path, 'new-db-name': `b${attack}`, 'connection-string': emu.connectionString() })
    ],
    [
      'source-path',
      (emu, path) => ({
        database: 'bank',
        'backup-path': path,
        'source-path': join(tempDir(), `s${attack}`),
        'connection-string': emu.connectionString()
      })
    ]
  ]
  for (const [name, inputs] of restoreCases) {
    it(`restore: ${name}`, async () => {
      const emu = await bank()
      const backup = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
      expect(backup.exitCode).toBe(0)
      const run = await runInProcess(inputs(emu, backup.outputs['backup-path'] ?? ''), runRestore)
      expectInert(run)
      expect(run.stdout).toContain('pwned')
    })
  }
})

describe('container logs', () => {
  it('are shown, and nothing in them runs (the bundle, with a docker that prints commands)', async () => {
    const bin = tempDir()
    const docker = join(bin, 'docker')
    writeFileSync(
      docker,
      `#!/bin/sh\nprintf 'node starting\\n::warning::pwned-stdout\\n::add-mask::pwned\\r::stop-commands::x\\n'\nprintf '::warning::pwned-stderr\\n' >&2\n`
    )
    chmodSync(docker, 0o755)
    const run = await runBundledAction({
      inputs: {
        database: 'bank',
        container: 'roach',
        'wait-timeout': '1',
        'connection-string': 'postgresql://root@127.0.0.1:1/defaultdb?sslmode=disable'
      },
      env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` }
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('::warning::pwned-stdout')
    expect(run.stdout).toContain('::warning::pwned-stderr')
    expect(foreignCommands(run.stdout)).toEqual([])
    expect(foreignCommands(run.stderr)).toEqual([])
  })
})

describe('blank lines in values shown in the job summary', () => {
  /** Every table is one HTML block: it must not hold a line break, or markdown ends the block at a blank line. */
  function expectWholeTables(summary: string): void {
    const tables = summary.match(/<table>[\s\S]*?<\/table>/g) ?? []
    expect(tables.length).toBeGreaterThan(0)
    for (const table of tables) expect(table).not.toMatch(/[\r\n]/)
  }

  it('a table name and the version string stay inside their cells', async () => {
    const emu = await bank()
    emu.tamperResults((name, value) => (name === 'version' || name === 'object_name' ? `${value}\n\n# heading\n\n*x*` : value))
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain('# heading')
    expectWholeTables(run.summary)
  })

  it('an error stays inside its cell', async () => {
    const emu = await bank()
    emu.failNextJob({ message: 'disk full\n\n# heading\n\n*x*' })
    const run = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(run.exitCode).toBe(1)
    expect(run.summary).toContain('# heading')
    expectWholeTables(run.summary)
  })
})

describe('messages for answers the step can name', () => {
  async function backUp(emu: Emulator, inputs: Record<string, string> = {}) {
    return runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString(), ...inputs } })
  }

  it('a NULL cluster_logical_timestamp()', async () => {
    const emu = await bank()
    emu.tamperResults((name, value) => (name === 'cluster_logical_timestamp' ? null : value))
    const run = await backUp(emu)
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual(['cluster_logical_timestamp() returned NULL, not a decimal timestamp.'])
  })

  it('a 25-digit job id: named as such, and the lookup that follows does not say the statement never answered', async () => {
    const emu = await bank()
    let tampered = false
    emu.tamperResults((name, value) => {
      if (name !== 'job_id' || tampered) return value
      tampered = true
      return '1234567890123456789012345'
    })
    const run = await backUp(emu)
    expect(run.exitCode).toBe(1)
    const message = errorsOf(run.stdout).join('\n')
    expect(message).toMatch(/^BACKUP … WITH detached returned "1234567890123456789012345", which is not a job id\.\n/)
    expect(message).toContain('started by the BACKUP statement that answered with no job id, was cancelled.')
    expect(message).not.toContain('never answered')
    expect(message).not.toContain('Unexpected error')
  })

  it('a 4-byte INT8 in a binary result', async () => {
    const emu = await bank()
    emu.tamperResults((name, value) => (name === 'byte_offset' ? `int4:${value}` : value))
    const run = await backUp(emu, { 'download-path': join(tempDir(), 'backup') })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      expect.stringMatching(
        /^While reading \d+ files from defaultdb\.public\.userfiles_root: an INT8 value arrived as 4 bytes, not 8 \(not CockroachDB's binary format\)$/
      )
    ])
  })

  it('a refused SHOW JOBS while looking for the job of an unanswered BACKUP: its SQLSTATE once', async () => {
    const emu = await bank()
    emu.setQueryDelay(10_000, /^BACKUP/, { answer: true })
    emu.refuseStatements(/SHOW JOBS/, 'user root does not have VIEWJOB privilege', '42501')
    const run = await backUp(emu, { timeout: '1' })
    expect(run.exitCode).toBe(1)
    const lines = run.stdout.split('\n').filter(line => line.includes('SQLSTATE 42501'))
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(line.match(/SQLSTATE/g)).toHaveLength(1)
  })
})
