/**
 * verify-restore against the emulator: the backup is restored into `<db>_verify_<job id>`, the
 * counts compared, and the scratch database is gone afterwards whatever happened.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { runBundledAction } from '../support/run-action.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'
import { foreignCommands } from '../support/workflow-commands.js'

const { emulators } = scratchPerTest('e2e-verify-restore-')

async function cluster(profile: 'v21.2' | 'v22.1' | 'v23.2' | 'v25.2' = 'v23.2'): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs: 60 })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
  emu.createDatabase('shop', { orders: { rows: 42, bytes: 4_200 } })
  return emu
}

const databases = (emu: Emulator) => [...emu.cluster.databases.keys()].sort()
const BEFORE = ['bank', 'defaultdb', 'postgres', 'shop', 'system']

describe('verify-restore', () => {
  it('on v21.2 refuses verify-restore of a database before backing up: RESTORE has new_db_name from v22.1', async () => {
    const emu = await cluster('v21.2')
    const run = await runInProcess({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(errorsOf(run.stdout).join('\n')).toMatch(
      /^Input 'verify-restore': restores each database under a scratch name with RESTORE … WITH new_db_name, which CockroachDB has from v22\.1; this cluster runs v21\.2/
    )
    expect(emu.statements.filter(s => /^(BACKUP|RESTORE)/.test(s.sql))).toEqual([])
  })

  for (const profile of ['v22.1', 'v23.2', 'v25.2'] as const) {
    it(`on ${profile} restores a database backup into <db>_verify_<job id>, compares and drops it`, async () => {
      const emu = await cluster(profile)
      const run = await runInProcess({
        database: 'bank',
        'verify-restore': 'true',
        'encryption-passphrase': 'pass phrase',
        'connection-string': emu.connectionString()
      })
      expect(errorsOf(run.stdout)).toEqual([])
      const jobId = run.outputs['job-id']!
      expect(run.outputs['verified']).toBe('true')
      const restore = emu.statements.find(s => s.sql.startsWith('RESTORE'))
      expect(restore?.redactedSql).toBe(
        `RESTORE DATABASE bank FROM '${run.outputs['backup-path']}' IN 'userfile://defaultdb.public.userfiles_root/bank-backup' WITH detached, new_db_name = 'bank_verify_${jobId}', encryption_passphrase = '*****'`
      )
      // Each restored table, then the source table as of the backup's time (the step's start, exactly).
      const asOf = /AS OF SYSTEM TIME ('\d+\.\d{10}')/.exec(emu.statements.find(s => s.sql.startsWith('BACKUP'))?.sql ?? '')?.[1]
      const counts = emu.statements.filter(s => s.sql.startsWith('SELECT count(*)')).map(s => s.sql)
      expect(counts).toEqual([
        `SELECT count(*) AS count FROM bank_verify_${jobId}.public.accounts`,
        `SELECT count(*) AS count FROM bank.public.accounts AS OF SYSTEM TIME ${asOf}`,
        `SELECT count(*) AS count FROM bank_verify_${jobId}.public.transfers`,
        `SELECT count(*) AS count FROM bank.public.transfers AS OF SYSTEM TIME ${asOf}`
      ])
      expect(run.summary).toContain('Restore test: verified')
      expect(run.summary).toMatch(
        /bank\.public\.accounts<\/td><td>bank_verify_\d+\.public\.accounts<\/td><td align="right">1000<\/td><td align="right">1000<\/td><td>match/
      )
      expect(databases(emu)).toEqual(BEFORE)
    })
  }

  it('verifies each database of a multi-database backup', async () => {
    const emu = await cluster()
    const run = await runInProcess({ database: 'bank, shop', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(errorsOf(run.stdout)).toEqual([])
    const jobId = run.outputs['job-id']!
    const restores = emu.statements.filter(s => s.sql.startsWith('RESTORE')).map(s => s.sql)
    expect(restores).toHaveLength(2)
    expect(restores[0]).toContain(`RESTORE DATABASE bank FROM`)
    expect(restores[0]).toContain(`new_db_name = 'bank_verify_${jobId}'`)
    expect(restores[1]).toContain(`RESTORE DATABASE shop FROM`)
    expect(restores[1]).toContain(`new_db_name = 'shop_verify_${jobId}'`)
    expect(run.summary).toContain(`shop_verify_${jobId}.public.orders</td><td align="right">42</td><td align="right">42</td><td>match`)
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('restores a table backup into a scratch database with into_db', async () => {
    const emu = await cluster()
    const run = await runInProcess({
      tables: 'bank.public.accounts',
      'verify-restore': 'true',
      'connection-string': emu.connectionString()
    })
    expect(errorsOf(run.stdout)).toEqual([])
    const jobId = run.outputs['job-id']!
    expect(emu.statements.some(s => s.sql === `CREATE DATABASE bank_verify_${jobId}`)).toBe(true)
    expect(emu.statements.find(s => s.sql.startsWith('RESTORE'))?.sql).toContain(
      `RESTORE TABLE bank.public.accounts FROM '${run.outputs['backup-path']}' IN 'userfile://defaultdb.public.userfiles_root/bank-backup' WITH detached, into_db = 'bank_verify_${jobId}'`
    )
    expect(run.outputs['verified']).toBe('true')
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('fails the step and drops the scratch database when the restore job fails', async () => {
    const emu = await cluster()
    emu.failNextRestore({ message: 'importing span /Table/112/1: disk full' })
    const run = await runInProcess({ tables: 'bank.*', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    const [error] = errorsOf(run.stdout)
    expect(error).toMatch(/^Verification restore job \d+ failed: importing span \/Table\/112\/1: disk full/)
    expect(run.outputs['verified']).toBe('false')
    // The backup was made and checked with SHOW BACKUP before the verification failed: it is handed on.
    expect(run.outputs['backup-path']).toMatch(/^\/\d{4}\//)
    expect(run.stdout).toMatch(/Dropped the scratch database bank_verify_\d+\./)
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('fails the step showing the difference when a restored count differs, and drops the scratch database', async () => {
    const emu = await cluster()
    emu.loseRowsOnNextRestore('public.transfers', 3)
    const run = await runInProcess({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      "verify-restore: the restored row counts differ from the source's at the backup's time:\nbank.public.transfers: 250 rows in the source at the backup's time, 247 restored"
    ])
    expect(run.outputs['verified']).toBe('false')
    expect(run.summary).toContain('Restore test: NOT verified')
    expect(run.summary).toContain('<td align="right">250</td><td align="right">247</td><td><strong>differs</strong></td>')
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('never drops a scratch database it did not create', async () => {
    const emu = await cluster()
    // The job id the next backup will get is not known in advance; occupy every plausible name.
    const first = await runInProcess({ database: 'shop', 'connection-string': emu.connectionString() })
    const next = String(BigInt(first.outputs['job-id']!) + 1n)
    emu.createDatabase(`bank_verify_${next}`, { keep: { rows: 7, bytes: 70 } })
    const run = await runInProcess({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(run.outputs['job-id']).toBe(next) // the backup was made: its outputs are set, verified is false
    expect(run.outputs['verified']).toBe('false')
    expect(errorsOf(run.stdout)[0]).toBe(
      `The scratch database bank_verify_${next} already exists; verify-restore never drops a database it did not create.\nHint: Drop it by hand if it is a leftover: DROP DATABASE IF EXISTS bank_verify_${next} CASCADE`
    )
    expect(emu.cluster.databases.get(`bank_verify_${next}`)?.schemas.get('public')?.get('keep')?.rows).toBe(7)
  })

  it("takes RESTORE's own refusal of an existing scratch database (XXUUU) as that, and drops nothing", async () => {
    const emu = await cluster()
    // RESTORE's planning refuses an existing new_db_name with a plain error: XXUUU, not 42P04.
    emu.refuseStatements(/^RESTORE/, 'database "bank_verify_1" already exists', 'XXUUU')
    const run = await runInProcess({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)[0]).toMatch(
      /^The scratch database bank_verify_\d+ already exists; verify-restore never drops a database it did not create\.\nHint: Drop it by hand if it is a leftover: DROP DATABASE IF EXISTS bank_verify_\d+ CASCADE$/
    )
    expect(emu.statements.some(s => s.sql.startsWith('DROP'))).toBe(false)
  })

  it('at the timeout cancels the restore job and drops the scratch database', async () => {
    const emu = await cluster()
    // Jobs stop advancing as soon as the verification RESTORE arrives; the backup itself is done by then.
    const watch = setInterval(() => {
      if (emu.statements.some(s => s.sql.startsWith('RESTORE'))) emu.pauseJobs()
    }, 2)
    let run
    try {
      run = await runInProcess({ tables: 'bank.*', timeout: '1', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    } finally {
      clearInterval(watch)
      emu.resumeJobs()
    }
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)[0]).toMatch(
      /^Verification restore job (\d+) was still running when the timeout \(1 s\) was reached\.\n(Hint: .*\n)?Job \1 was cancelled\./
    )
    expect(run.outputs['verified']).toBe('false')
    expect(run.stdout).toMatch(/Dropped the scratch database bank_verify_\d+\./)
    expect(databases(emu)).toEqual(BEFORE)
  })

  it("cancels the verification RESTORE whose statement never answered: its scratch database's name proves it is the step's", async () => {
    const emu = await cluster()
    // The RESTORE's job is created and stays running; its answer never comes in time.
    emu.setQueryDelay(10_000, /^RESTORE/, { answer: true })
    // Meanwhile another workflow, as the same user, restores the same backup under another name.
    const other = new pg.Client({ connectionString: emu.connectionString() })
    other.on('error', () => undefined)
    await other.connect()
    const watch = setInterval(() => {
      const mine = emu.statements.find(s => s.sql.startsWith('RESTORE'))
      if (!mine) return
      clearInterval(watch)
      emu.pauseJobs()
      void other.query(mine.sql.replace(/new_db_name = '[^']*'/, "new_db_name = 'bank_copy'")).catch(() => undefined)
    }, 2)
    let run
    try {
      run = await runInProcess({ database: 'bank', timeout: '1', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    } finally {
      clearInterval(watch)
      await other.end().catch(() => undefined)
    }
    expect(run.exitCode).toBe(1)
    const backup = [...emu.cluster.jobs.values()].find(job => job.type === 'BACKUP')
    const restores = [...emu.cluster.jobs.values()].filter(job => job.type === 'RESTORE')
    const restore = restores.find(job => job.description.includes(`new_db_name = 'bank_verify_${backup?.id}'`))
    const theirs = restores.find(job => job !== restore)
    expect(theirs?.description).toContain("new_db_name = 'bank_copy'")
    expect(theirs?.status).toBe('running')
    expect(['canceled', 'cancel-requested']).toContain(restore?.status)
    expect(emu.statements.filter(s => s.sql.startsWith('CANCEL JOB')).map(s => s.sql)).toEqual([`CANCEL JOB ${restore?.id}`])
    expect(errorsOf(run.stdout).join('\n')).toContain(
      `Job ${restore?.id}, started by the RESTORE statement that never answered, was cancelled.`
    )
  })

  it('keeps names with line breaks from issuing workflow commands', async () => {
    const emu = await cluster()
    const name = 'bank\n::warning::pwned'
    emu.createDatabase(name, { accounts: { rows: 3, bytes: 300 } })
    const run = await runInProcess({
      database: `"${name}"`,
      'verify-restore': 'true',
      'keep-backups': '1',
      'connection-string': emu.connectionString()
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.outputs['verified']).toBe('true')
    expect(run.stdout).toContain('Dropped the scratch database bank\n::warning::pwned_verify_')
    expect(foreignCommands(run.stdout)).toEqual([])
    expect(databases(emu)).toEqual([...BEFORE, name].sort())
  })

  it('drops the scratch database after a failed restore even when DROP takes longer than 2.5 s', async () => {
    const emu = await cluster()
    emu.failNextRestore({ message: 'importing span /Table/112/1: disk full' })
    emu.setQueryDelay(4_000, /^DROP DATABASE/)
    const run = await runInProcess({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([expect.stringMatching(/^Verification restore job \d+ failed: importing span/)])
    expect(run.stdout).toMatch(/Dropped the scratch database bank_verify_\d+\./)
    expect(run.stdout).not.toContain('drop it by hand')
  })
})

describe('verify-restore on the bundle: what the restored counts are compared with', () => {
  it('verifies a database with a view, naming the view as not compared', async () => {
    const emu = await cluster()
    // SHOW BACKUP lists the view as a table with 0 rows; count(*) on the restored view gives 120.
    emu.createView('bank', 'big_accounts', 120)
    const run = await runBundledAction({
      inputs: { database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() }
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.exitCode).toBe(0)
    expect(run.outputs['verified']).toBe('true')
    expect(run.stdout).toContain(
      'verify-restore: bank.public.big_accounts is a view, not compared: a view holds no rows of its own (SHOW BACKUP lists it with 0 rows; count(*) runs its query).'
    )
    expect(run.summary).toContain('<li><code>bank.public.big_accounts</code> (view): a view holds no rows of its own')
    expect(run.summary).toMatch(
      /bank\.public\.accounts<\/td><td>bank_verify_\d+\.public\.accounts<\/td><td align="right">1000<\/td><td align="right">1000<\/td><td>match/
    )
    expect(emu.statements.some(s => /^SELECT count\(\*\) .*big_accounts/.test(s.sql))).toBe(false)
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('verifies a revision-history backup of a table with rows deleted within the GC window', async () => {
    const emu = await cluster()
    emu.deleteRows('bank', 'accounts', 30, new Date(Date.now() - 60_000))
    const run = await runBundledAction({
      inputs: { database: 'bank', 'revision-history': 'true', 'verify-restore': 'true', 'connection-string': emu.connectionString() }
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.outputs['verified']).toBe('true')
    // SHOW BACKUP counts the 30 tombstones and the values they deleted: 1030 exported, 970 live.
    expect(run.outputs['rows']).toBe(String(1030 + 250))
    expect(run.summary).toMatch(
      /bank\.public\.accounts<\/td><td>bank_verify_\d+\.public\.accounts<\/td><td align="right">970<\/td><td align="right">970<\/td><td>match/
    )
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('compares the counts of a backup with incremental layers', async () => {
    const emu = await cluster()
    const full = await runBundledAction({ inputs: { database: 'bank', 'connection-string': emu.connectionString() } })
    expect(full.exitCode).toBe(0)
    emu.writeRows('bank', 'accounts', { rows: 1_100, bytes: 70_000 })
    const run = await runBundledAction({
      inputs: { database: 'bank', incremental: 'true', 'verify-restore': 'true', 'connection-string': emu.connectionString() }
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.outputs['verified']).toBe('true')
    expect(run.summary).toMatch(
      /bank\.public\.accounts<\/td><td>bank_verify_\d+\.public\.accounts<\/td><td align="right">1100<\/td><td align="right">1100<\/td><td>match/
    )
  })

  it('still fails on rows lost in a revision-history backup', async () => {
    const emu = await cluster()
    emu.deleteRows('bank', 'accounts', 30, new Date(Date.now() - 60_000))
    emu.loseRowsOnNextRestore('public.accounts', 2)
    const run = await runBundledAction({
      inputs: { database: 'bank', 'revision-history': 'true', 'verify-restore': 'true', 'connection-string': emu.connectionString() }
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      "verify-restore: the restored row counts differ from the source's at the backup's time:\nbank.public.accounts: 970 rows in the source at the backup's time, 968 restored"
    ])
    expect(databases(emu)).toEqual(BEFORE)
  })

  it("with a relative as-of-system-time, reads the source a microsecond either side of SHOW BACKUP's end_time", async () => {
    const emu = await cluster()
    emu.loseRowsOnNextRestore('public.transfers', 1)
    const run = await runBundledAction({
      inputs: { database: 'bank', 'as-of-system-time': '-1s', 'verify-restore': 'true', 'connection-string': emu.connectionString() }
    })
    expect(run.exitCode).toBe(1)
    // The emulator keeps milliseconds: the end time the log shows is SHOW BACKUP's end_time exactly.
    const endNs = BigInt(Date.parse(/consistent as of (\S+Z)/.exec(run.stdout)?.[1] ?? '')) * 1_000_000n
    const reads = emu.statements.filter(s => / AS OF SYSTEM TIME /.test(s.sql) && s.sql.startsWith('SELECT')).map(s => s.sql)
    // accounts matches at the first read; transfers differs, so it is read again after the end time.
    expect(reads).toEqual([
      `SELECT count(*) AS count FROM bank.public.accounts AS OF SYSTEM TIME '${endNs - 1_000n}.0000000000'`,
      `SELECT count(*) AS count FROM bank.public.transfers AS OF SYSTEM TIME '${endNs - 1_000n}.0000000000'`,
      `SELECT count(*) AS count FROM bank.public.transfers AS OF SYSTEM TIME '${endNs + 1_000n}.0000000000'`
    ])
    expect(errorsOf(run.stdout)).toEqual([
      "verify-restore: the restored row counts differ from the source's at the backup's time:\nbank.public.transfers: 250 rows in the source at the backup's time, 249 restored"
    ])
  })

  it("does not fail the backup when the source's rows at its time are past the GC threshold", async () => {
    // The cluster's clock jumps 5 h (past v23.2's 4 h GC TTL) once the verification RESTORE is sent.
    let jumped = false
    const emu = await startEmulator({ profile: 'v23.2', jobDurationMs: 60, now: () => new Date(Date.now() + (jumped ? 5 * 3600_000 : 0)) })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
    emu.deleteRows('bank', 'accounts', 30, new Date(Date.now() - 60_000))
    const watch = setInterval(() => {
      jumped ||= emu.statements.some(s => s.sql.startsWith('RESTORE'))
    }, 2)
    let run
    try {
      run = await runBundledAction({
        inputs: { database: 'bank', 'revision-history': 'true', 'verify-restore': 'true', 'connection-string': emu.connectionString() }
      })
    } finally {
      clearInterval(watch)
    }
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.outputs['verified']).toBe('true')
    expect(run.stdout).toContain(
      "verify-restore: bank.public.accounts: not compared: the backup's end time is older than the source's GC threshold (gc.ttlseconds), so its rows then can no longer be read."
    )
    expect(run.summary).toMatch(/<td align="right">–<\/td><td align="right">970<\/td><td>restored: not compared: the backup/)
  })
})
