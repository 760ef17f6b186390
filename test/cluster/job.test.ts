/**
 * src/cluster/job.ts against the emulator: whenever the follower stops for a reason other than the job's
 * own end, the job is cancelled on a fresh connection (or the error says it could not be).
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { runJobToEnd } from '../../src/cluster/job.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { emulatorSessionPerTest } from '../support/emulator-session.js'

const held = emulatorSessionPerTest()

async function startedJob(emu: Emulator): Promise<string> {
  const client = new pg.Client({ connectionString: emu.connectionString() })
  await client.connect()
  try {
    const { rows } = await client.query<{ job_id: string }>(`BACKUP DATABASE bank INTO 'userfile:///bank-backup' WITH detached`)
    return rows[0]!.job_id
  } finally {
    await client.end()
  }
}

describe('runJobToEnd', () => {
  it('tries to cancel the job on a fresh connection, and says what happened, when reconnecting is given up', async () => {
    const emu = (held.emulator = await startEmulator({ profile: 'v26.1', jobDurationMs: 60_000 }))
    emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const jobId = await startedJob(emu)
    const settings = parseConnectionString(emu.connectionString())
    const session = (held.session = await Session.open(settings, { waitTimeoutMs: 2_000 }))
    const logs: string[] = []
    const following = runJobToEnd(session, jobId, settings, {
      timeoutMs: 60_000,
      reconnectTimeoutMs: 300,
      log: message => logs.push(message),
      pollIntervalMs: () => 20
    })
    await new Promise(resolve => setTimeout(resolve, 100))
    emu.dropConnections()
    const refusing = emu.refuseConnectionsFor(1_500)
    const error = await following.then(
      () => undefined,
      (e: unknown) => e
    )
    await refusing
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toContain(`The action stopped following backup job ${jobId}.`)
    // The cluster refuses connections at that moment, so the cancel cannot get through either: the
    // error tells the user to cancel by hand rather than leave the job running silently.
    expect(message).toContain(`cancel it by hand with CANCEL JOB ${jobId}`)
    expect(logs.join('\n')).toContain('Reconnecting')
  })

  it('says the job was running when the cancel lands during a status read, as between two reads, and cancels it', async () => {
    const emu = (held.emulator = await startEmulator({ profile: 'v26.1', jobDurationMs: 60_000 }))
    emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    const jobId = await startedJob(emu)
    const settings = parseConnectionString(emu.connectionString())
    const abort = new AbortController()
    const session = (held.session = await Session.open(settings, { waitTimeoutMs: 2_000, signal: abort.signal }))
    emu.setQueryDelay(5_000, /SHOW JOB/)
    const following = runJobToEnd(session, jobId, settings, {
      timeoutMs: 60_000,
      reconnectTimeoutMs: 300,
      log: () => undefined,
      signal: abort.signal,
      pollIntervalMs: () => 20
    })
    await new Promise(resolve => setTimeout(resolve, 200))
    emu.setQueryDelay(0)
    abort.abort('SIGTERM')
    const error = await following.then(
      () => undefined,
      (e: unknown) => e
    )
    expect((error as Error).message).toMatch(
      new RegExp(`^The workflow was cancelled \\(SIGTERM\\) while backup job ${jobId} was running\\.\\nJob ${jobId} was cancelled\\.`)
    )
    expect(emu.cluster.jobs.get(jobId)?.status).toMatch(/^cancel(-requested|ed)$/)
  })

  it('does not cancel a job that ended on its own (failed)', async () => {
    const emu = (held.emulator = await startEmulator({ profile: 'v26.1', jobDurationMs: 50 }))
    emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } })
    emu.failNextJob({ message: 'simulated: out of disk' })
    const jobId = await startedJob(emu)
    const settings = parseConnectionString(emu.connectionString())
    const session = (held.session = await Session.open(settings, { waitTimeoutMs: 2_000 }))
    const error = await runJobToEnd(session, jobId, settings, {
      timeoutMs: 10_000,
      reconnectTimeoutMs: 300,
      log: () => undefined,
      pollIntervalMs: () => 20
    }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect((error as Error).message).toMatch(/Backup job \d+ failed: simulated: out of disk$/)
    expect(emu.statements.some(s => s.sql.startsWith('CANCEL JOB'))).toBe(false)
  })
})
