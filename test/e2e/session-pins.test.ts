/**
 * A role default or the connection string's `options` can give the action's sessions a time zone
 * ahead of UTC (a detached job then never starts on v23.2, cockroach #123207) or a READ COMMITTED /
 * REPEATABLE READ default (cluster_logical_timestamp() fails with 0A000 from v23.2). The action pins
 * both on every session, so the backup and the restore companion still work. On the bundle.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type ProfileName } from '../emulator/index.js'
import { ROOT, runBundledAction, type ActionRun } from '../support/run-action.js'
import { errorsOf } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'

const { emulators } = scratchPerTest('e2e-session-pins-')

async function bank(profile: ProfileName): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs: 100 })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 } })
  return emu
}

/** A short timeout: without the pin, the v23.2 job never starts and the step would wait for it. */
function backup(connectionString: string): Promise<ActionRun> {
  return runBundledAction({ inputs: { database: 'bank', timeout: '5', 'connection-string': connectionString } })
}

function expectSucceeded(run: ActionRun): void {
  expect(errorsOf(run.stdout)).toEqual([])
  expect(run.exitCode).toBe(0)
}

describe('sessions pinned to UTC and serializable, whatever the role defaults or the URL options say', () => {
  it('backs up on v23.2 with a role default time zone ahead of UTC (Asia/Kolkata)', async () => {
    const emu = await bank('v23.2')
    emu.setRoleDefault('timezone', 'Asia/Kolkata')
    expectSucceeded(await backup(emu.connectionString()))
  })

  it('backs up on v23.2 with options=-c TimeZone=-05:00 (POSIX: five hours ahead of UTC) in the connection string', async () => {
    const emu = await bank('v23.2')
    expectSucceeded(await backup(`${emu.connectionString()}&options=${encodeURIComponent('-c TimeZone=-05:00')}`))
  })

  it.each(['v23.2', 'v26.2'] as const)('backs up on %s with a role default isolation of read committed', async profile => {
    const emu = await bank(profile)
    emu.setRoleDefault('default_transaction_isolation', 'read committed')
    expectSucceeded(await backup(emu.connectionString()))
  })

  it('backs up with options=-c default_transaction_isolation=repeatable\\ read in the connection string', async () => {
    const emu = await bank('v26.2')
    const options = encodeURIComponent('-c default_transaction_isolation=repeatable\\ read')
    expectSucceeded(await backup(`${emu.connectionString()}&options=${options}`))
  })

  it('restores on v23.2 with a role default time zone ahead of UTC (the restore companion and its detached RESTORE)', async () => {
    const emu = await bank('v23.2')
    const made = await backup(emu.connectionString())
    expectSucceeded(made)
    emu.setRoleDefault('timezone', '+5')
    const restored = await runBundledAction({
      inputs: {
        database: 'bank',
        'backup-path': made.outputs['backup-path'] ?? '',
        'new-db-name': 'bank2',
        timeout: '5',
        'connection-string': emu.connectionString()
      },
      script: join(ROOT, 'dist/restore/index.js'),
      actionYml: join(ROOT, 'restore/action.yml')
    })
    expectSucceeded(restored)
    expect(emu.cluster.databases.has('bank2')).toBe(true)
  })
})
