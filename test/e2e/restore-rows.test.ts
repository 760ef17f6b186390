/**
 * The restore companion's `rows` output after a chain: what was restored, not the sum of every
 * layer's SHOW BACKUP `rows` (an incremental's count what changed since the layer before).
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startEmulator } from '../emulator/index.js'
import { ROOT, runBundledAction } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf } from '../support/run-in-process.js'

const { emulators } = scratchPerTest('e2e-restore-rows-')

describe('the restore companion’s rows output, bundled', () => {
  it('reports the restored tables’ rows for a full backup with two incrementals', async () => {
    const emu = await startEmulator({ profile: 'v25.2', jobDurationMs: 50 })
    emulators.push(emu)
    emu.createDatabase('bank', { accounts: { rows: 11, bytes: 1_100 } })
    const backUp = async (inputs: Record<string, string>) => {
      const run = await runBundledAction({ inputs: { 'connection-string': emu.connectionString(), database: 'bank', ...inputs } })
      expect(errorsOf(run.stdout)).toEqual([])
      return run.outputs
    }
    const full = await backUp({})
    emu.writeRows('bank', 'accounts', { rows: 6, bytes: 600 }) // 5 deleted: that layer's rows are 5
    await backUp({ incremental: 'true' })
    emu.writeRows('bank', 'accounts', { rows: 9, bytes: 900 }) // 3 inserted: 3; summed over the chain, 19
    await backUp({ incremental: 'true' })
    const run = await runBundledAction({
      inputs: {
        'connection-string': emu.connectionString(),
        database: 'bank',
        'backup-path': full['backup-path']!,
        'new-db-name': 'bank_restored'
      },
      script: join(ROOT, 'dist/restore/index.js'),
      actionYml: join(ROOT, 'restore/action.yml')
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.outputs['restored-tables']).toBe('bank_restored.public.accounts')
    expect(run.outputs['rows']).toBe('9')
    expect(run.summary).toContain('bank_restored.public.accounts')
  })
})
