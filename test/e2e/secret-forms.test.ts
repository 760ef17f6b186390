/**
 * Secrets in every form they take on the way to a log line. CockroachDB's syntax errors echo the
 * statement (`source SQL: …`) with each `'` of a literal doubled, and URIs carry credentials
 * percent-encoded: each form must be masked, or the runner shows it.
 */
import { describe, expect, it } from 'vitest'
import { secretForms } from '../../src/base/secrets.js'
import { startEmulator } from '../emulator/index.js'
import { errorsOf, maskedValues, runInProcess } from '../support/run-in-process.js'
import { scratchPerTest } from '../support/scratch.js'

const { emulators } = scratchPerTest('e2e-secret-forms-')

/** What the runner shows: every masked value replaced by ***, longest first. */
function asShown(text: string, masks: string[]): string {
  return [...masks].sort((a, b) => b.length - a.length).reduce((shown, mask) => shown.replaceAll(mask, '***'), text)
}

const PASSPHRASE = "it's-100%-@secret"
const CLOUD_SECRET = "wJal'rX%U@tnFEMI"
const COLLECTION = `s3://backups/bank?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=${encodeURIComponent(CLOUD_SECRET)}`

describe('secretForms', () => {
  it('gives a secret as written, SQL-escaped, percent-encoded and percent-decoded', () => {
    expect(secretForms("a'b%41@c")).toEqual(
      expect.arrayContaining(["a'b%41@c", "a''b%41@c", "a'b%2541%40c", "a''b%2541%40c", "a'bA@c", "a''bA@c"])
    )
  })

  it('keeps a secret that is not valid percent-encoding as written', () => {
    expect(secretForms('100%')).toEqual(expect.arrayContaining(['100%', '100%25']))
  })
})

describe("a syntax error that echoes the statement, secrets with ' % and @ in it", () => {
  it('shows none of them, in any form', async () => {
    const emulator = await startEmulator({ profile: 'v23.2' })
    emulators.push(emulator)
    emulator.createDatabase('bank', { accounts: { rows: 10, bytes: 100 } })
    emulator.rejectAsSyntaxError(/^BACKUP/)
    const run = await runInProcess({
      database: 'bank',
      collection: COLLECTION,
      'encryption-passphrase': PASSPHRASE,
      'connection-string': emulator.connectionString()
    })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    // The echo is there (so the test exercises it), with the passphrase SQL-escaped.
    expect(error).toContain('source SQL:')
    expect(error).toContain("it''s-100%-@secret")
    const masks = maskedValues(run.stdout)
    const shown =
      asShown(error, masks) +
      asShown(
        run.stdout
          .split('\n')
          .filter(l => !l.startsWith('::add-mask::'))
          .join('\n'),
        masks
      )
    for (const secret of [PASSPHRASE, CLOUD_SECRET]) {
      for (const form of secretForms(secret)) expect(shown).not.toContain(form)
    }
    expect(shown).toContain('***')
  })
})
