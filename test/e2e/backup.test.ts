/**
 * run() end to end against the CockroachDB emulator, through the real pg driver: each version
 * profile's path format, every kind of target and destination, and the failures a user meets.
 */
import { readdirSync } from 'node:fs'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { PROFILE_NAMES, startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf, maskedValues, runInProcess } from '../support/run-in-process.js'

expectNoInternalsInAnyStatement()

const { emulators, tempDir } = scratchPerTest('e2e-backup-')

async function start(options: EmulatorOptions): Promise<Emulator> {
  const emu = await startEmulator(options)
  emulators.push(emu)
  return emu
}

async function bankCluster(profile: EmulatorOptions['profile'], jobDurationMs = 300): Promise<Emulator> {
  const emu = await start({ profile, jobDurationMs })
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
  return emu
}

async function listBackups(emu: Emulator, collection: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: emu.connectionString() })
  await client.connect()
  try {
    const result = await client.query<{ path: string }>(`SHOW BACKUPS IN '${collection}'`)
    return result.rows.map(row => row.path)
  } finally {
    await client.end()
  }
}

function sent(emu: Emulator): string[] {
  return emu.statements.map(statement => statement.sql)
}

const DATE_FOLDER_WITH_SLASH = /^\/\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2}$/
const DATE_FOLDER_WITHOUT_SLASH = /^\d{4}\/\d{2}\/\d{2}-\d{6}\.\d{2}$/

describe('a full backup of a database', () => {
  // v21.1 stands for early-2021 code whose listing drops the slash; its own test is in test/emulator/backup.test.ts.
  for (const profile of PROFILE_NAMES.filter(name => name !== 'v21.1')) {
    it(`on ${profile}: sets every output from what CockroachDB reports`, async () => {
      const emu = await bankCluster(profile)
      const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
      expect(errorsOf(result.stdout)).toEqual([])
      expect(result.exitCode).toBe(0)
      const { outputs } = result
      expect(outputs['backup-path']).toMatch(DATE_FOLDER_WITH_SLASH)
      expect(outputs['collection']).toBe('userfile://defaultdb.public.userfiles_root/bank-backup')
      expect(outputs['job-id']).toMatch(/^\d{15,20}$/)
      expect(outputs['rows']).toBe('1250')
      expect(outputs['bytes']).toBe('82000')
      expect(outputs['end-time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
      expect(outputs['restore-statement']).toBe(
        `RESTORE DATABASE bank FROM '${outputs['backup-path']}' IN 'userfile://defaultdb.public.userfiles_root/bank-backup'`
      )
      // The folder is the one SHOW BACKUPS lists now, and it is named after end-time.
      expect(await listBackups(emu, 'userfile://defaultdb.public.userfiles_root/bank-backup')).toContain(outputs['backup-path'])
      const end = outputs['end-time'] ?? ''
      expect(outputs['backup-path']).toBe(
        `/${end.slice(0, 4)}/${end.slice(5, 7)}/${end.slice(8, 10)}-${end.slice(11, 13)}${end.slice(14, 16)}${end.slice(17, 19)}.${(/\.(\d+)Z$/.exec(end)?.[1] ?? '').padEnd(2, '0').slice(0, 2)}`
      )
      expect(result.summary).toContain('CockroachDB backup')
      expect(result.summary).toContain('bank.public.accounts')
    })
  }

  it('on v21.1, whose SHOW BACKUP has no backup_type column (PR #63832 is v21.2), verifies the full layer by its missing start time', async () => {
    const emu = await bankCluster('v21.1')
    const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs['rows']).toBe('1250')
    expect(result.outputs['backup-path']).toMatch(DATE_FOLDER_WITHOUT_SLASH)
  })

  it("sends the statements in order: session (pinned to UTC and serializable), the cluster's clock (twice, around the offset wait), list, clock, detached BACKUP AS OF that time + 0.5 s, poll, list, verify", async () => {
    const emu = await bankCluster('v23.2')
    await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    const statements = sent(emu)
    const backupAt = statements.findIndex(s => s.startsWith('BACKUP'))
    expect(statements.slice(0, 5)).toEqual([
      'SELECT current_user, version()',
      "SET TIME ZONE 'UTC'",
      "SET default_transaction_isolation = 'serializable'",
      'SELECT cluster_logical_timestamp()',
      'SELECT cluster_logical_timestamp()'
    ])
    expect(statements[backupAt - 2]).toBe("SHOW BACKUPS IN 'userfile://defaultdb.public.userfiles_root/bank-backup'")
    // The clock just before the statement: how its job is found if the statement never answers.
    expect(statements[backupAt - 1]).toBe('SELECT now() AS now')
    const match =
      /^BACKUP DATABASE bank INTO 'userfile:\/\/defaultdb\.public\.userfiles_root\/bank-backup' AS OF SYSTEM TIME '(\d+)\.0000000000' WITH detached$/.exec(
        statements[backupAt] ?? ''
      )
    expect(match).not.toBeNull()
    // The step's start (the first clock reading) plus the default 0.5 s offset, and not in the future when BACKUP arrived.
    const asOfMs = Number(BigInt(match?.[1] ?? '0') / 1_000_000n)
    const firstReading = emu.statements.find(s => s.sql === 'SELECT cluster_logical_timestamp()')?.at.getTime() ?? 0
    expect(asOfMs - firstReading).toBeGreaterThanOrEqual(500)
    expect(asOfMs - firstReading).toBeLessThan(520)
    expect(asOfMs).toBeLessThanOrEqual(emu.statements.find(s => s.sql.startsWith('BACKUP'))?.at.getTime() ?? 0)
    expect(statements.slice(backupAt + 1)).toContainEqual(
      expect.stringMatching(/^SELECT status, fraction_completed, error, description FROM \[SHOW JOB \d+\]$/)
    )
    expect(statements.at(-1)).toMatch(
      /^SHOW BACKUP '\/\d{4}\/.*' IN 'userfile:\/\/defaultdb\.public\.userfiles_root\/bank-backup' WITH check_files$/
    )
  })

  // check_files is v22.2+: PR #80491 landed after the 22.1 branch cut ("New in v22.2" in the docs).
  it.each(['v21.2', 'v22.1'] as const)('does not ask for check_files on %s, which lacks it', async profile => {
    const emu = await bankCluster(profile)
    const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(0)
    expect(sent(emu).at(-1)).toMatch(/^SHOW BACKUP /)
    expect(sent(emu).at(-1)).not.toContain('check_files')
  })

  it('keeps the slashless form a collection at the storage root lists, and restores from it', async () => {
    const emu = await bankCluster('v22.2')
    const result = await runInProcess({ database: 'bank', collection: 'userfile:///', 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.outputs['backup-path']).toMatch(DATE_FOLDER_WITHOUT_SLASH)
    expect(result.outputs['restore-statement']).toContain(`FROM '${result.outputs['backup-path']}' IN 'userfile:///'`)
  })

  it('resolves $user to the session user', async () => {
    const emulator = await start({ profile: 'v23.2', jobDurationMs: 100, users: { alice: 'pw' } })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const result = await runInProcess({ database: 'bank', 'connection-string': emulator.connectionString('alice', 'pw') })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.outputs['collection']).toBe('userfile://defaultdb.public.userfiles_alice/bank-backup')
  })

  it("gives a user whose name is not a bare identifier cockroach userfile's hex prefix, and downloads from it", async () => {
    const emulator = await start({ profile: 'v26.2', jobDurationMs: 100, users: { 'ci-bot': 'pw' } })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const download = tempDir()
    const result = await runInProcess({
      database: 'bank',
      'download-path': download,
      'connection-string': emulator.connectionString('ci-bot', 'pw')
    })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.outputs['collection']).toBe('userfile://defaultdb.public.userfilesx_63692d626f74/bank-backup')
    expect([...emulator.cluster.userfiles.keys()]).toContain('defaultdb.public.userfilesx_63692d626f74')
    expect(readdirSync(download, { recursive: true })).toContainEqual(expect.stringMatching(/BACKUP_MANIFEST$/))
  })

  it('shows the syntax error CockroachDB gives an empty-host collection for such a user (cockroach #99971)', async () => {
    const emulator = await start({ profile: 'v26.2', jobDurationMs: 100, users: { 'ci-bot': 'pw' } })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const result = await runInProcess({
      database: 'bank',
      collection: 'userfile:///bank-backup',
      'connection-string': emulator.connectionString('ci-bot', 'pw')
    })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toContain(
      'failed to create file table to store uploaded file names: create-file-table: at or near "_upload_files": syntax error (SQLSTATE 42601)'
    )
  })

  it('backs up several databases into a collection named after the first', async () => {
    const emu = await bankCluster('v23.2')
    emu.createDatabase('Shop-EU', { orders: { rows: 5, bytes: 500 } })
    const result = await runInProcess({ database: 'bank\nShop-EU', 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(sent(emu).find(s => s.startsWith('BACKUP'))).toContain('BACKUP DATABASE bank, "Shop-EU" INTO')
    expect(result.outputs['rows']).toBe('1255')
    expect(result.outputs['restore-statement']).toMatch(/^RESTORE DATABASE bank, "Shop-EU" FROM/)
  })
})

describe('enterprise licence (XXC02)', () => {
  it('v23.2.4 without a licence refuses revision-history at planning, and the error carries the licence hint', async () => {
    const emulator = await start({ profile: 'v23.2', jobDurationMs: 100, licensed: false })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const result = await runInProcess({ database: 'bank', 'revision-history': 'true', 'connection-string': emulator.connectionString() })
    expect(result.exitCode).toBe(1)
    const error = errorsOf(result.stdout).join('\n')
    expect(error).toContain('use of BACKUP with revision_history requires an enterprise license')
    expect(error).toContain('SQLSTATE XXC02')
    expect(error).toMatch(/Hint: Up to v22\.2, and on v23\.1\/v23\.2 patches from before the late-2024 licence change/)
  })

  it('v22.2 without a licence fails an incremental inside the job, and the error carries the licence hint', async () => {
    const emulator = await start({ profile: 'v22.2', jobDurationMs: 100, licensed: false })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const full = await runInProcess({ database: 'bank', 'connection-string': emulator.connectionString() })
    expect(full.exitCode).toBe(0)
    const result = await runInProcess({ database: 'bank', incremental: 'true', 'connection-string': emulator.connectionString() })
    expect(result.exitCode).toBe(1)
    const error = errorsOf(result.stdout).join('\n')
    expect(error).toMatch(/Backup job \d+ failed: use of BACKUP with incremental requires an enterprise license/)
    expect(error).toContain('Hint: Up to v22.2')
  })

  it('v24.3 needs no licence for an incremental with revision history', async () => {
    const emulator = await start({ profile: 'v24.3', jobDurationMs: 100, licensed: false })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    expect((await runInProcess({ database: 'bank', 'connection-string': emulator.connectionString() })).exitCode).toBe(0)
    const result = await runInProcess({
      database: 'bank',
      incremental: 'true',
      'revision-history': 'true',
      'connection-string': emulator.connectionString()
    })
    expect(errorsOf(result.stdout)).toEqual([])
  })
})

describe('use_backups_with_ids (v26.2+)', () => {
  it.each(['v26.2', 'v26.3'] as const)('on %s: finds the new folder by path when a role default turns the variable on', async profile => {
    const emu = await bankCluster(profile)
    emu.setRoleDefault('use_backups_with_ids', 'true')
    const first = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(errorsOf(first.stdout)).toEqual([])
    const second = await runInProcess({ database: 'bank', incremental: 'true', 'connection-string': emu.connectionString() })
    expect(errorsOf(second.stdout)).toEqual([])
    expect(second.outputs['backup-path']).toBe(first.outputs['backup-path'])
    expect(sent(emu)).toContain('SET use_backups_with_ids = false')
  })

  it('never sets the variable on versions that lack it (they refuse it with 42704)', async () => {
    for (const profile of ['v25.4', 'v26.1'] as const) {
      const emu = await bankCluster(profile)
      const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
      expect(result.exitCode).toBe(0)
      expect(sent(emu).filter(s => s.includes('use_backups_with_ids'))).toEqual([])
      await emu.close()
    }
  })
})

describe('other targets and destinations', () => {
  it('backs up tables', async () => {
    const emu = await bankCluster('v23.2')
    const result = await runInProcess({ tables: 'bank.accounts, bank.public.transfers', 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(sent(emu).find(s => s.startsWith('BACKUP'))).toMatch(
      /^BACKUP TABLE bank\.accounts, bank\.public\.transfers INTO 'userfile:\/\/defaultdb\.public\.userfiles_root\/bank-backup'/
    )
    expect(result.outputs['rows']).toBe('1250')
    expect(result.outputs['restore-statement']).toMatch(/^RESTORE TABLE bank\.accounts, bank\.public\.transfers FROM '\/\d{4}/)
  })

  it('appends an incremental to the latest full backup and outputs that full backup', async () => {
    let offsetMs = 0
    const emu = await start({ profile: 'v23.2', jobDurationMs: 200, now: () => new Date(Date.now() + offsetMs) })
    emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
    const full = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(full.exitCode).toBe(0)
    offsetMs = 60_000 // a minute later, so the layers differ
    const accounts = emu.cluster.databases.get('bank')?.schemas.get('public')?.get('accounts')
    if (!accounts) throw new Error('no accounts table')
    accounts.rows += 40
    accounts.bytes += 2_560
    const incremental = await runInProcess({ database: 'bank', incremental: 'true', 'connection-string': emu.connectionString() })
    expect(errorsOf(incremental.stdout)).toEqual([])
    expect(
      sent(emu)
        .filter(s => s.startsWith('BACKUP'))
        .at(-1)
    ).toContain("INTO LATEST IN 'userfile://defaultdb.public.userfiles_root/bank-backup'")
    expect(incremental.outputs['backup-path']).toBe(full.outputs['backup-path'])
    expect(incremental.outputs['job-id']).not.toBe(full.outputs['job-id'])
    expect(incremental.outputs['end-time']! > full.outputs['end-time']!).toBe(true)
    // The newest layer only: the 40 rows changed since the full backup, not 1000 + 40.
    expect(full.outputs['rows']).toBe('1000')
    expect(incremental.outputs['rows']).toBe('40')
    expect(incremental.outputs['bytes']).toBe('2560')
    expect(incremental.summary).toContain('Rows in this incremental layer')
    expect(incremental.summary).toContain('Layers in the chain')
  })

  it('refuses an incremental when the collection has no full backup yet, before any BACKUP', async () => {
    const emu = await bankCluster('v23.2')
    const result = await runInProcess({ database: 'bank', incremental: 'true', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toMatch(/incremental: true needs a full backup/)
    expect(sent(emu).some(s => s.startsWith('BACKUP'))).toBe(false)
  })

  it('on v21.2 creates a full backup in an explicit subdirectory and outputs /name', async () => {
    const emu = await bankCluster('v21.2')
    const result = await runInProcess({ database: 'bank', subdirectory: 'release-42', 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(sent(emu).find(s => s.startsWith('BACKUP'))).toContain(
      "INTO 'release-42' IN 'userfile://defaultdb.public.userfiles_root/bank-backup'"
    )
    expect(result.outputs['backup-path']).toBe('/release-42')
    expect(result.outputs['restore-statement']).toContain("FROM '/release-42' IN")
  })

  it("from v22.1 fails with CockroachDB's error when the subdirectory holds no full backup", async () => {
    const emu = await bankCluster('v23.2')
    const result = await runInProcess({ database: 'bank', subdirectory: 'release-42', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toContain('No full backup exists in "/release-42"')
    expect(result.outputs).toEqual({})
  })

  for (const profile of ['v25.4', 'v26.1', 'v26.2'] as const) {
    it(`on ${profile} refuses a subdirectory that is no date-based folder, before any BACKUP, saying why`, async () => {
      const emu = await bankCluster(profile)
      const result = await runInProcess({ database: 'bank', subdirectory: 'release-42', 'connection-string': emu.connectionString() })
      expect(result.exitCode).toBe(1)
      const [error] = errorsOf(result.stdout)
      expect(error).toContain(`Input 'subdirectory': "release-42" is not a date-based folder`)
      expect(error).toContain("parses the full backup's subdirectory as a date for its backup index")
      expect(sent(emu).some(s => s.startsWith('BACKUP'))).toBe(false)
      expect(result.outputs).toEqual({})
    })
  }

  it('on v26.2 appends to a date-based subdirectory that SHOW BACKUPS lists', async () => {
    const emu = await bankCluster('v26.2')
    const full = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(errorsOf(full.stdout)).toEqual([])
    const folder = full.outputs['backup-path']!
    const result = await runInProcess({ database: 'bank', subdirectory: folder.slice(1), 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.outputs['backup-path']).toBe(folder)
  })
})

describe('waiting for the cluster', () => {
  it('waits for a server that starts accepting connections late', async () => {
    const emu = await bankCluster('v23.2')
    emu.refuseConnectionsFor(1500)
    const started = Date.now()
    const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString(), 'wait-timeout': '20' })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.outputs['backup-path']).toMatch(DATE_FOLDER_WITH_SLASH)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
  })

  it('gives up after wait-timeout, saying what it tried and the last error', async () => {
    const emu = await bankCluster('v23.2')
    emu.refuseConnectionsFor(30_000)
    const started = Date.now()
    const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString(), 'wait-timeout': '2' })
    const elapsed = Date.now() - started
    expect(result.exitCode).toBe(1)
    const [error] = errorsOf(result.stdout)
    expect(error).toMatch(/did not accept connections within wait-timeout \(2 s, \d+ attempts\)/)
    expect(error).toContain('ECONNREFUSED')
    expect(error).toContain(`127.0.0.1:${emu.port} as root`)
    expect(elapsed).toBeGreaterThanOrEqual(1500)
    expect(elapsed).toBeLessThan(8000)
  })

  it('fails at once on a wrong password (28P01) rather than waiting', async () => {
    const emulator = await start({ profile: 'v23.2', users: { alice: 'right' } })
    const started = Date.now()
    const result = await runInProcess({
      database: 'bank',
      'connection-string': emulator.connectionString('alice', 'wrong'),
      'wait-timeout': '30'
    })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toMatch(/password authentication failed.*SQLSTATE 28P01/)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})

describe('failures', () => {
  it("fails the step with the job's error when the job fails, and sets no outputs", async () => {
    const emu = await bankCluster('v23.2')
    emu.failNextJob({ message: 'simulated: node 1 ran out of disk' })
    const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toMatch(/Backup job \d+ failed: simulated: node 1 ran out of disk/)
    expect(result.outputs).toEqual({})
    // Only the summary of a failed step: what failed, where, the job and its statement.
    const [job] = [...emu.cluster.jobs.values()]
    expect(result.summary).toContain('<h2>CockroachDB backup of bank failed</h2>')
    expect(result.summary).toContain('<th align="left">Phase</th><td>Back up</td>')
    expect(result.summary).toMatch(/<p>Backup job \d+ failed: simulated: node 1 ran out of disk<\/p>/)
    expect(result.summary).toContain(`<th align="left">Job</th><td>${job!.id}</td>`)
    expect(result.summary).toContain('BACKUP DATABASE bank INTO')
    expect(result.summary).not.toContain('<h3>Restore</h3>')
  })

  it("reports a missing database with CockroachDB's text and SQLSTATE", async () => {
    const emu = await bankCluster('v23.2')
    const result = await runInProcess({ database: 'nope', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    const error = errorsOf(result.stdout).join('\n')
    expect(error).toContain('failed to resolve targets specified in the BACKUP stmt: database "nope" does not exist')
    expect(error).toContain('SQLSTATE XXUUU')
    expect(error).toContain('While starting the backup into userfile://defaultdb.public.userfiles_root/nope-backup')
  })

  it('cancels the job and fails when timeout is reached', async () => {
    const emu = await bankCluster('v23.2', 60_000)
    const result = await runInProcess({ database: 'bank', timeout: '1', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    const error = errorsOf(result.stdout).join('\n')
    expect(error).toMatch(/still running when the timeout \(1 s\) was reached/)
    expect(error).toMatch(/Job \d+ was cancelled/)
    expect(sent(emu).some(s => /^CANCEL JOB \d+$/.test(s))).toBe(true)
    const [job] = [...emu.cluster.jobs.values()]
    expect(['canceled', 'cancel-requested']).toContain(job?.status)
  })

  it('on v26.1 follows the job through SHOW JOB, which the crdb_internal restriction does not refuse', async () => {
    const emu = await bankCluster('v26.1')
    const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
    expect(errorsOf(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
  })

  for (const [what, pattern, message, code] of [
    ['refused', /SHOW JOB/, 'Access to crdb_internal and system is restricted.', '42501'],
    ['failing', /SHOW JOB/, 'simulated: internal error while reading the job', 'XX000']
  ] as const) {
    it(`cancels the job on a fresh connection and says so when the status query is ${what}`, async () => {
      const emu = await bankCluster('v26.1', 60_000)
      emu.refuseStatements(pattern, message, code)
      const result = await runInProcess({ database: 'bank', 'connection-string': emu.connectionString() })
      expect(result.exitCode).toBe(1)
      const error = errorsOf(result.stdout).join('\n')
      expect(error).toContain(message)
      expect(error).toContain(`SQLSTATE ${code}`)
      expect(error).toMatch(/stopped following backup job \d+\. Job \d+ was cancelled\./)
      expect(sent(emu).some(s => /^CANCEL JOB \d+$/.test(s))).toBe(true)
      const [job] = [...emu.cluster.jobs.values()]
      expect(['canceled', 'cancel-requested']).toContain(job?.status)
    })
  }

  it('refuses a cluster backup before connecting', async () => {
    const emu = await bankCluster('v23.2')
    const result = await runInProcess({ 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toMatch(/Inputs 'database' and 'tables'.*could never be restored/s)
    expect(emu.statements).toEqual([])
  })
})

describe('hostile input', () => {
  it('quotes a database name full of SQL so CockroachDB sees one identifier', async () => {
    const name = `x"; DROP DATABASE bank; --`
    const emu = await bankCluster('v23.2')
    emu.createDatabase(name, { t: { rows: 3, bytes: 30 } })
    const result = await runInProcess({
      database: `"${name.replaceAll('"', '""')}"`,
      collection: "userfile:///it's-a-test",
      'connection-string': emu.connectionString()
    })
    expect(errorsOf(result.stdout)).toEqual([])
    const backup = sent(emu).find(s => s.startsWith('BACKUP'))
    expect(backup).toMatch(
      /^BACKUP DATABASE "x""; DROP DATABASE bank; --" INTO 'userfile:\/\/\/it''s-a-test' AS OF SYSTEM TIME '\d{19}\.0000000000' WITH detached$/
    )
    expect(emu.cluster.databases.has('bank')).toBe(true)
    expect(result.outputs['rows']).toBe('3')
  })

  it("rejects an AS OF SYSTEM TIME that is not one of CockroachDB's forms, before connecting", async () => {
    const emu = await bankCluster('v23.2')
    const result = await runInProcess({
      database: 'bank',
      'as-of-system-time': "-10s'; DROP DATABASE bank; --",
      'connection-string': emu.connectionString()
    })
    expect(result.exitCode).toBe(1)
    expect(errorsOf(result.stdout).join('\n')).toMatch(/^Input 'as-of-system-time':/)
    expect(emu.statements).toEqual([])
  })
})

describe('secrets', () => {
  it('masks the password and passphrase and never prints them elsewhere', async () => {
    const password = 'pa ss/w%rd-Z9'
    const passphrase = 'correct horse battery staple'
    const emulator = await start({ profile: 'v23.2', jobDurationMs: 100, users: { alice: password } })
    emulator.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const result = await runInProcess({
      database: 'bank',
      'connection-string': emulator.connectionString('alice', password),
      'encryption-passphrase': passphrase
    })
    expect(errorsOf(result.stdout)).toEqual([])
    const encoded = encodeURIComponent(password)
    const lines = result.stdout.split('\n')
    expect(maskedValues(result.stdout)).toEqual(expect.arrayContaining([password, encoded, passphrase]))
    for (const line of lines.filter(l => !l.startsWith('::add-mask::'))) {
      expect(line).not.toContain(password)
      expect(line).not.toContain(encoded)
      expect(line).not.toContain(passphrase)
    }
    for (const text of [result.summary, ...Object.values(result.outputs)]) {
      expect(text).not.toContain(passphrase)
      expect(text).not.toContain(password)
    }
    expect(result.outputs['restore-statement']).toContain("encryption_passphrase = '<encryption-passphrase>'")
    // The passphrase did reach CockroachDB.
    expect(emulator.statements.find(s => s.sql.startsWith('BACKUP'))?.sql).toContain(`encryption_passphrase = '${passphrase}'`)
  })
})

describe('a BACKUP statement that answers only after the action stopped waiting (no orphaned job)', () => {
  it("finds the job it started in SHOW JOBS and cancels it; another user's job is left alone", async () => {
    const emu = await bankCluster('v23.2', 60_000)
    // Someone else's backup, running at the same time.
    const other = new pg.Client({ connectionString: emu.connectionString('carol') })
    await other.connect()
    await other.query(`BACKUP DATABASE bank INTO 'userfile://defaultdb.public.userfiles_carol/x' WITH detached`)
    await other.end()
    emu.setQueryDelay(10_000, /^BACKUP/, { answer: true })
    const result = await runInProcess({ database: 'bank', timeout: '1', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    const error = errorsOf(result.stdout).join('\n')
    expect(error).toMatch(/While starting the backup into .*: no answer within 1 s/)
    const mine = [...emu.cluster.jobs.values()].find(job => job.user === 'root')
    const theirs = [...emu.cluster.jobs.values()].find(job => job.user === 'carol')
    expect(error).toContain(`Job ${mine?.id}, started by the BACKUP statement that never answered, was cancelled.`)
    expect(['canceled', 'cancel-requested']).toContain(mine?.status)
    expect(theirs?.status).toBe('running')
    expect(sent(emu).filter(sql => sql.startsWith('CANCEL JOB'))).toEqual([`CANCEL JOB ${mine?.id}`])
  })

  it('cancels nothing when CockroachDB answered the statement with an error', async () => {
    const emu = await bankCluster('v23.2', 60_000)
    const result = await runInProcess({ database: 'nosuchdb', 'connection-string': emu.connectionString() })
    expect(result.exitCode).toBe(1)
    expect(sent(emu).some(sql => sql.includes('SHOW JOBS') || sql.startsWith('CANCEL JOB'))).toBe(false)
  })
})
