/** The emulator's RESTORE … AS OF SYSTEM TIME over full and incremental layers, with and without revision history. */
import { describe, expect, it } from 'vitest'
import { BASE_MS, COLLECTION, connect, detachedBackup, emulator, failure, paths, pollJob } from '../support/emulator-client.js'
import { PROFILES, PROFILE_NAMES, type Emulator } from './index.js'
import { goTimeString } from './restore-time.js'
import type pg from 'pg'

const HOUR = 3600_000
const iso = (ms: number): string => new Date(ms).toISOString()

/** bank.accounts: 1000 rows, 1500 from 2 h before the clock, 2000 from 1 h before, 2500 from 5 s before. */
function history(emu: Emulator): void {
  emu.writeRows('bank', 'accounts', { rows: 1500, bytes: 96_000 }, new Date(BASE_MS - 2 * HOUR))
  emu.writeRows('bank', 'accounts', { rows: 2000, bytes: 128_000 }, new Date(BASE_MS - HOUR))
  emu.writeRows('bank', 'accounts', { rows: 2500, bytes: 160_000 }, new Date(BASE_MS - 5000))
}

/** A full backup ending 10 s before the clock, and optionally an incremental ending at it. */
async function chain(client: pg.Client, options: { revisionHistory: boolean; incremental: boolean }): Promise<string> {
  const revisions = options.revisionHistory ? ', revision_history' : ''
  await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached${revisions}`)
  if (options.incremental) await detachedBackup(client, `BACKUP DATABASE bank INTO LATEST IN '${COLLECTION}' WITH detached${revisions}`)
  const [path] = await paths(client)
  return path!
}

async function restoreAsOf(client: pg.Client, path: string, time: string, name: string): Promise<string> {
  const { rows } = await client.query<{ job_id: string }>(
    `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' AS OF SYSTEM TIME '${time}' WITH detached, new_db_name = '${name}'`
  )
  const history = await pollJob(client, rows[0]!.job_id)
  expect(history.at(-1)?.status).toBe('succeeded')
  const count = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${name}.public.accounts`)
  return count.rows[0]!.count
}

describe('RESTORE … AS OF SYSTEM TIME', () => {
  // The same checks and texts from a v20.2-era pkg/ccl/backupccl copy to the newest pkg/backup: every
  // profile that can restore beside the original (new_db_name is new in v22.1).
  for (const profile of PROFILE_NAMES.filter(name => PROFILES[name].restoreHasNewDbName)) {
    it(`on ${profile} restores a revision-history chain to any time its revisions cover, and refuses one before them`, async () => {
      const emu = await emulator({ profile })
      history(emu)
      const client = await connect(emu)
      // pollJob reads crdb_internal, restricted by default from v26.1.
      if (emu.profile.allowUnsafeInternals === 'default-off') await client.query('SET allow_unsafe_internals = true')
      const path = await chain(client, { revisionHistory: true, incremental: true })
      expect(await restoreAsOf(client, path, iso(BASE_MS - 90 * 60_000), 'at_90m')).toBe('1500')
      expect(await restoreAsOf(client, path, `${BigInt(BASE_MS - 7000) * 1_000_000n}.0000000000`, 'at_7s')).toBe('2000')
      expect(await restoreAsOf(client, path, iso(BASE_MS - 3000), 'at_3s')).toBe('2500')
      const gcThreshold = BASE_MS - emu.profile.gcTtlSeconds * 1000
      const old = await failure(
        client.query(
          `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' AS OF SYSTEM TIME '${iso(gcThreshold - HOUR)}' WITH detached, new_db_name = 'old'`
        )
      )
      expect([old.code, old.message]).toEqual([
        'XXUUU',
        `invalid RESTORE timestamp: BACKUP for requested time only has revision history from ${goTimeString(gcThreshold)}`
      ])
      expect(emu.cluster.databases.has('old')).toBe(false)
    })
  }

  it('restores a chain without revision history only to a layer end, naming the nearest ones otherwise', async () => {
    const emu = await emulator()
    history(emu)
    const client = await connect(emu)
    const path = await chain(client, { revisionHistory: false, incremental: true })
    const refused = (ms: number) =>
      failure(
        client.query(
          `RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' AS OF SYSTEM TIME '${iso(ms)}' WITH detached, new_db_name = 'x'`
        )
      )
    const prefix =
      "invalid RESTORE timestamp: restoring to arbitrary time requires that BACKUP for requested time be created with 'revision_history' option."
    const inFull = await refused(BASE_MS - HOUR)
    expect([inFull.code, inFull.message]).toEqual(['XXUUU', `${prefix} nearest backup time is 2024-05-07 14:10:12.345 +0000 UTC`])
    const inIncremental = await refused(BASE_MS - 5000)
    expect(inIncremental.message).toBe(
      `${prefix} nearest BACKUP times are 2024-05-07 14:10:12.345 +0000 UTC or 2024-05-07 14:10:22.345 +0000 UTC`
    )
    expect(await restoreAsOf(client, path, iso(BASE_MS - 10_000), 'at_full_end')).toBe('2000')
    expect(await restoreAsOf(client, path, iso(BASE_MS), 'at_end')).toBe('2500')
  })

  it('refuses a time after the backup ends, and one in the future as any AS OF SYSTEM TIME does', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    const path = await chain(client, { revisionHistory: true, incremental: false })
    const after = await failure(
      client.query(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' AS OF SYSTEM TIME '-5s' WITH detached`)
    )
    expect([after.code, after.message]).toEqual(['XXUUU', 'invalid RESTORE timestamp: supplied backups do not cover requested time'])
    const future = await failure(
      client.query(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}' AS OF SYSTEM TIME '${iso(BASE_MS + 1000)}' WITH detached`)
    )
    expect(future.message).toMatch(/^AS OF SYSTEM TIME: cannot specify timestamp in the future/)
  })
})
