/**
 * verify-restore against the emulator: the backup is restored into `<db>_verify_<job id>`, the
 * counts compared, and the scratch database is gone afterwards whatever happened.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'
import { foreignCommands } from '../support/workflow-commands.js'

const { emulators } = scratchPerTest('e2e-verify-restore-')

async function cluster(profile: 'v21.2' | 'v23.2' | 'v25.2' = 'v23.2'): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs: 60 })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
  emu.createDatabase('shop', { orders: { rows: 42, bytes: 4_200 } })
  return emu
}

const databases = (emu: Emulator) => [...emu.cluster.databases.keys()].sort()
const BEFORE = ['bank', 'defaultdb', 'postgres', 'shop', 'system']

describe('verify-restore', () => {
  for (const profile of ['v21.2', 'v23.2', 'v25.2'] as const) {
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
      const counts = emu.statements.filter(s => s.sql.startsWith('SELECT count(*)')).map(s => s.sql)
      expect(counts).toEqual([
        `SELECT count(*) AS count FROM bank_verify_${jobId}.public.accounts`,
        `SELECT count(*) AS count FROM bank_verify_${jobId}.public.transfers`
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
    expect(run.outputs['backup-path']).toBeUndefined()
    expect(run.stdout).toMatch(/Dropped the scratch database bank_verify_\d+\./)
    expect(databases(emu)).toEqual(BEFORE)
  })

  it('fails the step showing the difference when a restored count differs, and drops the scratch database', async () => {
    const emu = await cluster()
    emu.loseRowsOnNextRestore('public.transfers', 3)
    const run = await runInProcess({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toEqual([
      "verify-restore: the restored row counts differ from the backup's:\nbank.public.transfers: 250 rows in the backup, 247 restored"
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
    expect(run.outputs['job-id']).toBeUndefined()
    expect(errorsOf(run.stdout)[0]).toBe(
      `The scratch database bank_verify_${next} already exists; verify-restore never drops a database it did not create.\nHint: Drop it by hand if it is a leftover: DROP DATABASE IF EXISTS bank_verify_${next} CASCADE`
    )
    expect(emu.cluster.databases.get(`bank_verify_${next}`)?.schemas.get('public')?.get('keep')?.rows).toBe(7)
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
})
