/**
 * The job summary of a failed step, through the bundles: the cause first as text that wraps (a
 * paragraph, not a <pre> in a table cell), then the hint (no literal backticks), then the statement
 * that was running; and a backup that was made keeps its outputs when a follow-up fails.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { ROOT, runBundledAction, type ActionRun } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'

expectNoInternalsInAnyStatement()

const { emulators } = scratchPerTest('e2e-failure-summary-')
const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'

async function cluster(profile: 'v23.2' | 'v26.1' = 'v23.2'): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs: 60 })
  emulators.push(emu)
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
  emu.createDatabase('shop', { orders: { rows: 42, bytes: 4_200 } })
  return emu
}

const backup = (inputs: Record<string, string>) => runBundledAction({ inputs })
const restore = (inputs: Record<string, string>) =>
  runBundledAction({ script: join(ROOT, 'dist/restore/index.js'), actionYml: join(ROOT, 'restore/action.yml'), inputs })

/** The failure section: heading, then the cause, hint and statement paragraphs in that order, each on one line. */
function failureParts(run: ActionRun, title: string): { cause: string; hint: string | undefined; statement: string | undefined } {
  expect(run.exitCode).toBe(1)
  const section = run.summary.slice(run.summary.indexOf(`<h2>${title} failed</h2>\n`) + `<h2>${title} failed</h2>\n`.length)
  expect(run.summary).toContain(`<h2>${title} failed</h2>`)
  const paragraphs = [...section.matchAll(/^<p>(.*)<\/p>$/gm)].map(match => match[1] ?? '')
  const cause = paragraphs[0] ?? ''
  const hint = paragraphs.find(p => p.startsWith('<strong>Hint:</strong> '))?.slice('<strong>Hint:</strong> '.length)
  const statement = paragraphs.find(p => p.startsWith('The statement that was running:<br>'))
  expect(section.indexOf(cause)).toBeLessThan(hint === undefined ? Infinity : section.indexOf(hint))
  if (hint !== undefined && statement !== undefined) expect(section.indexOf(hint)).toBeLessThan(section.indexOf(statement))
  expect(run.summary).not.toContain('<pre>') // nothing that does not wrap
  expect(hint ?? '').not.toContain('`')
  return { cause, hint, statement }
}

describe('the failure summary', () => {
  it('for a wrong database names it and lists the databases the session can see, closest first', async () => {
    const emu = await cluster('v26.1')
    const run = await backup({ database: 'bnak', 'connection-string': emu.connectionString() })
    const { cause, hint, statement } = failureParts(run, 'CockroachDB backup of bnak')
    expect(cause).toMatch(/failed to resolve targets specified in the BACKUP stmt: database &quot;bnak&quot; does not exist/)
    expect(hint).toBe(
      'There is no database &quot;bnak&quot; this session can see. The databases it can see, closest first: bank, shop, system, defaultdb, postgres.'
    )
    expect(statement).toMatch(/^The statement that was running:<br><code>BACKUP DATABASE bnak INTO /)
    expect(emu.statements.map(s => s.sql)).toContain('SELECT database_name FROM [SHOW DATABASES]')
  })

  it('for a wrong table names it and lists the tables of its database, closest first', async () => {
    const emu = await cluster()
    const run = await backup({ tables: 'bank.public.acounts', 'connection-string': emu.connectionString() })
    const { cause, hint, statement } = failureParts(run, 'CockroachDB backup of bank.public.acounts')
    expect(cause).toMatch(/table &quot;bank\.public\.acounts&quot; does not exist/)
    expect(hint).toBe(
      'Database &quot;bank&quot; has no table &quot;public.acounts&quot;. Its tables, closest first: public.accounts, public.transfers.'
    )
    expect(statement).toMatch(/<code>BACKUP TABLE bank\.public\.acounts INTO /)
  })

  it('for a target created after an explicit AS OF SYSTEM TIME shows the BACKUP statement too', async () => {
    const emu = await cluster()
    emu.createDatabase('fresh', { t: { rows: 1, bytes: 10 } }, { createdAt: new Date(Date.now() - 1000) })
    const run = await backup({ database: 'fresh', 'as-of-system-time': '-10s', 'connection-string': emu.connectionString() })
    const { cause, hint, statement } = failureParts(run, 'CockroachDB backup of fresh')
    expect(cause).toMatch(/^Database &quot;fresh&quot; exists now but did not exist yet AS OF SYSTEM TIME/)
    expect(hint).toMatch(/^Back up with as-of-system-time: step-start/)
    expect(statement).toMatch(/<code>BACKUP DATABASE fresh INTO /)
  })

  it('for an encrypted backup restored without a passphrase names the input', async () => {
    const emu = await cluster()
    const made = await backup({ database: 'bank', 'encryption-passphrase': 'correct horse', 'connection-string': emu.connectionString() })
    expect(made.exitCode).toBe(0)
    const run = await restore({
      database: 'bank',
      'new-db-name': 'bank2',
      'backup-path': made.outputs['backup-path']!,
      'connection-string': emu.connectionString()
    })
    const { cause, hint, statement } = failureParts(run, 'CockroachDB restore of bank')
    expect(cause).toContain(
      `Backup ${made.outputs['backup-path']!} in ${COLLECTION} is encrypted, and the encryption-passphrase input is not set.<br>`
    )
    expect(cause).toContain('file appears encrypted')
    expect(hint).toBe(
      'Set encryption-passphrase to the passphrase the backup was taken with (the backup step&#39;s encryption-passphrase), from the same secret.'
    )
    expect(statement).toContain(`<code>SHOW BACKUP &#39;${made.outputs['backup-path']!}&#39; IN &#39;${COLLECTION}&#39;`)
  })

  it('for a backup-path not in the collection lists what SHOW BACKUPS has, newest first', async () => {
    const emu = await cluster()
    const first = await backup({ database: 'bank', 'connection-string': emu.connectionString() })
    const second = await backup({ database: 'bank', 'connection-string': emu.connectionString() })
    expect([first.exitCode, second.exitCode]).toEqual([0, 0])
    const run = await restore({
      database: 'bank',
      'new-db-name': 'bank2',
      'backup-path': '/2020/01/01-000000.00',
      'connection-string': emu.connectionString()
    })
    const { cause, hint, statement } = failureParts(run, 'CockroachDB restore of bank')
    expect(cause).toMatch(new RegExp(`^backup-path /2020/01/01-000000\\.00 is not in the collection ${COLLECTION}\\.<br>`))
    expect(hint).toBe(
      `SHOW BACKUPS lists, newest first: ${second.outputs['backup-path']!}, ${first.outputs['backup-path']!}. ` +
        'Set backup-path to one of them (the backup step&#39;s backup-path output), or to LATEST.'
    )
    expect(statement).toContain('<code>SHOW BACKUP &#39;/2020/01/01-000000.00&#39; IN')
  })

  it('for a verify-restore difference keeps the backup: its outputs are set and the summary shows it after the failure', async () => {
    const emu = await cluster()
    emu.loseRowsOnNextRestore('public.transfers', 3)
    const run = await backup({ database: 'bank', 'verify-restore': 'true', 'connection-string': emu.connectionString() })
    const { cause, hint } = failureParts(run, 'CockroachDB backup of bank')
    expect(cause).toBe(
      'verify-restore: the restored row counts differ from the source&#39;s at the backup&#39;s time:<br>bank.public.transfers: 250 rows in the source at the backup&#39;s time, 247 restored'
    )
    expect(hint).toBeUndefined()
    const path = run.outputs['backup-path']!
    expect(path).toMatch(/^\/\d{4}\/\d\d\/\d\d-\d{6}\.\d\d$/)
    expect(run.outputs).toMatchObject({ collection: COLLECTION, verified: 'false' })
    expect(run.outputs['job-id']).toMatch(/^\d+$/)
    expect(run.outputs['restore-statement']).toBe(`RESTORE DATABASE bank FROM '${path}' IN '${COLLECTION}'`)
    const failed = run.summary.indexOf('<h2>CockroachDB backup of bank failed</h2>')
    const made = run.summary.indexOf('<h3>The backup that was made</h3>')
    const table = run.summary.indexOf('Restore test: NOT verified')
    expect(failed).toBeGreaterThanOrEqual(0)
    expect(failed).toBeLessThan(made)
    expect(made).toBeLessThan(table)
    expect(run.summary).toContain(`<th align="left">Path</th><td><code>${path}</code></td>`)
    expect(run.summary).toContain('<th align="left">Restore test</th><td>NOT verified: the row counts differ (see the table below)</td>')
    expect(run.summary).toContain('<td align="right">250</td><td align="right">247</td><td><strong>differs</strong></td>')
  })

  it('names each step by what it backed up, so several steps in one job stay apart', async () => {
    const emu = await cluster()
    const run = await backup({ tables: 'bank.public.accounts, bank.public.transfers', 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain('<h2>CockroachDB backup of bank.public.accounts, bank.public.transfers</h2>')
    const restored = await restore({
      database: 'bank',
      'new-db-name': 'bank2',
      'backup-path': run.outputs['backup-path']!,
      'connection-string': emu.connectionString()
    })
    expect(restored.summary).toContain('<h2>CockroachDB restore of bank</h2>')
  })
})
