/** src/cluster/job-description.ts: the folder a detached BACKUP job's description names (docs/cockroachdb-facts.md §3). */
import { describe, expect, it } from 'vitest'
import { carriesStringLiteral, folderFromJobDescription } from '../../src/cluster/job-description.js'

const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'
const NEW = '/2024/05/07-141012.34'

describe('folderFromJobDescription', () => {
  it.each<[string, string]>([
    [`BACKUP DATABASE bank INTO '${NEW}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`, NEW],
    [`BACKUP DATABASE bank INTO '${NEW}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH OPTIONS (detached)`, NEW],
    [
      `BACKUP TABLE bank.public.accounts, bank.public.transfers INTO '${NEW}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`,
      NEW
    ],
    [`BACKUP DATABASE bank INTO 'LATEST' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`, 'LATEST'],
    [`BACKUP DATABASE bank INTO '/release-42' IN '${COLLECTION}' WITH detached`, '/release-42'],
    [`BACKUP DATABASE bank INTO '${NEW}' IN '${COLLECTION}' WITH revision_history, encryption_passphrase = '*****', detached`, NEW],
    [`BACKUP DATABASE bank INTO '${NEW}' IN 'userfile:///it''s-backup' AS OF SYSTEM TIME '-10s' WITH detached`, NEW],
    [`BACKUP DATABASE bank INTO '/it''s' IN '${COLLECTION}' WITH detached`, "/it's"],
    [`backup database bank into '${NEW}' in '${COLLECTION}'`, NEW]
  ])('%s → %j', (description, folder) => {
    expect(folderFromJobDescription(description)).toBe(folder)
  })

  it.each([null, undefined, '', `BACKUP DATABASE bank TO '${COLLECTION}'`, `RESTORE DATABASE bank FROM '${NEW}' IN '${COLLECTION}'`])(
    'finds nothing in %j',
    description => {
      expect(folderFromJobDescription(description)).toBeUndefined()
    }
  )

  it("reads the e'…' literal CockroachDB prints for a collection holding a quote", () => {
    // lexbase.EncodeSQLStringWithFlags switches to e'…' with \' for ', \, control and non-ASCII
    // characters (pkg/sql/lexbase/encode.go); it never prints '' inside a literal.
    const description = `BACKUP DATABASE bank INTO '${NEW}' IN e'userfile:///o\\'brien-backup' AS OF SYSTEM TIME '-10s' WITH OPTIONS (detached)`
    expect(folderFromJobDescription(description)).toBe(NEW)
  })

  it('is not fooled by INTO … IN inside a quoted database name', () => {
    const description = `BACKUP DATABASE "a INTO '/x' IN 'b" INTO '${NEW}' IN '${COLLECTION}' AS OF SYSTEM TIME '-10s' WITH detached`
    expect(folderFromJobDescription(description)).toBe(NEW)
  })
})

describe("carriesStringLiteral (how an unanswered statement's job is proven to be the step's, facts §5)", () => {
  const TIME = '1715091012340000000.0000000000'
  const MINE = `BACKUP DATABASE bank INTO '${NEW}' IN '${COLLECTION}' AS OF SYSTEM TIME '${TIME}' WITH OPTIONS (detached)`

  it("finds the step's own AS OF SYSTEM TIME in a whole description, not in an abbreviated one", () => {
    expect(carriesStringLiteral(MINE, TIME)).toBe(true)
    expect(carriesStringLiteral(`${MINE.slice(0, 59)} … etached)`, TIME)).toBe(false)
    expect(carriesStringLiteral(MINE.replace(TIME, '1715091012340000000.0000000001'), TIME)).toBe(false)
    expect(carriesStringLiteral(null, TIME)).toBe(false)
  })

  it('takes only a whole string literal: not part of a longer one, not a quoted name', () => {
    expect(carriesStringLiteral(`RESTORE DATABASE bank FROM '${NEW}' IN 'x' WITH new_db_name = 'bank_verify_1'`, 'bank_verify_1')).toBe(
      true
    )
    expect(carriesStringLiteral(`RESTORE DATABASE bank FROM '${NEW}' IN 'x' WITH new_db_name = 'bank_verify_12'`, 'bank_verify_1')).toBe(
      false
    )
    expect(carriesStringLiteral(`RESTORE DATABASE "bank_verify_1" FROM '${NEW}' IN 'x'`, 'bank_verify_1')).toBe(false)
    expect(carriesStringLiteral(`RESTORE DATABASE bank FROM '${NEW}' IN 'x' WITH into_db = e'it\\'s'`, "it's")).toBe(true)
  })
})
