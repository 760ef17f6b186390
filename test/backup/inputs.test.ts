/**
 * src/backup/inputs.ts: getInputs with a fake reader (undefined = the runner did not set the input) and a
 * recording mask. Every refusal names its input; every secret is masked before anything can fail.
 */
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_CONNECTION_STRING, Inputs } from '../../src/base/constants.js'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { InputError } from '../../src/base/errors.js'
import { getInputs, type ActionInputs } from '../../src/backup/inputs.js'
import { actionDefaults } from '../support/run-action.js'

type Values = Partial<Record<Inputs, string>>

interface Outcome {
  inputs: ActionInputs | undefined
  error: InputError | undefined
  masked: string[]
}

/** Runs getInputs; `masked` is what was passed to mask, in order, even when it threw. */
function run(values: Values): Outcome {
  const masked: string[] = []
  try {
    return {
      inputs: getInputs(
        name => (values as Record<string, string | undefined>)[name],
        secret => masked.push(secret)
      ),
      error: undefined,
      masked
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    return { inputs: undefined, error, masked }
  }
}

function ok(values: Values): ActionInputs {
  const { inputs, error } = run(values)
  if (inputs === undefined) throw new Error(`expected the inputs to be accepted, got: ${error?.message}`)
  return inputs
}

function refused(values: Values): string {
  const { error } = run(values)
  if (error === undefined) throw new Error(`expected ${JSON.stringify(values)} to be refused`)
  return error.message
}

const BANK: Values = { [Inputs.Database]: 'bank' }

describe('defaults', () => {
  const expectedDefaults = {
    connection: parseConnectionString(DEFAULT_CONNECTION_STRING),
    target: { kind: 'databases', databases: ['bank'] },
    collection: { uri: 'userfile://defaultdb.public.userfiles_$user/bank-backup', scheme: 'userfile' },
    asOf: { kind: 'step-start' },
    maxClockOffsetMs: 500,
    subdirectory: undefined,
    incremental: false,
    revisionHistory: false,
    encryptionPassphrase: undefined,
    waitTimeoutMs: 60_000,
    timeoutMs: 3_600_000,
    container: undefined
  }

  it('fills in every unset input', () => {
    const inputs = ok(BANK)
    expect(inputs).toMatchObject(expectedDefaults)
    expect(inputs.connection).toMatchObject({
      host: 'localhost',
      port: 26257,
      user: 'root',
      database: 'defaultdb',
      sslMode: 'disable',
      password: undefined
    })
  })

  it('gives the same result from action.yml’s defaults as the runner sets them', () => {
    expect(ok({ ...(actionDefaults() as Values), ...BANK })).toMatchObject(expectedDefaults)
  })

  it('treats a blank connection string as the default', () => {
    expect(ok({ ...BANK, [Inputs.ConnectionString]: '  ' }).connection).toMatchObject({ host: 'localhost', sslMode: 'disable' })
  })
})

describe('as-of-system-time', () => {
  it("is the step's start when unset, and no AS OF SYSTEM TIME when set to empty", () => {
    expect(ok(BANK).asOf).toEqual({ kind: 'step-start' })
    expect(ok({ ...BANK, [Inputs.AsOfSystemTime]: ' Step-Start ' }).asOf).toEqual({ kind: 'step-start' })
    expect(ok({ ...BANK, [Inputs.AsOfSystemTime]: '-10s' }).asOf).toEqual({ kind: 'interval', value: '-10s' })
    expect(ok({ ...BANK, [Inputs.AsOfSystemTime]: '' }).asOf).toBeUndefined()
    expect(ok({ ...BANK, [Inputs.AsOfSystemTime]: '  ' }).asOf).toBeUndefined()
  })

  it('accepts the other forms and refuses a positive interval, naming the input', () => {
    expect(ok({ ...BANK, [Inputs.AsOfSystemTime]: 'follower_read_timestamp()' }).asOf).toEqual({ kind: 'follower-read' })
    expect(ok({ ...BANK, [Inputs.AsOfSystemTime]: '2024-05-07 14:10:12.34' }).asOf).toEqual({
      kind: 'timestamp',
      value: '2024-05-07 14:10:12.34'
    })
    expect(refused({ ...BANK, [Inputs.AsOfSystemTime]: '10s' })).toMatch(/^Input 'as-of-system-time': .*Did you mean -10s\?/)
  })
})

describe('max-clock-offset', () => {
  it("is 0.5 s (CockroachDB's default --max-offset) when unset, takes seconds, and may be 0 for a single node", () => {
    expect(ok(BANK).maxClockOffsetMs).toBe(500)
    expect(ok({ ...BANK, [Inputs.MaxClockOffset]: '0.25' }).maxClockOffsetMs).toBe(250)
    expect(ok({ ...BANK, [Inputs.MaxClockOffset]: '0' }).maxClockOffsetMs).toBe(0)
    expect(refused({ ...BANK, [Inputs.MaxClockOffset]: '500ms' })).toMatch(/^Input 'max-clock-offset': "500ms" is not a number of seconds/)
  })
})

describe('database and tables', () => {
  it('reads comma and newline separated lists, deduped, with quoted names', () => {
    expect(ok({ [Inputs.Database]: 'bank, shop\nbank\n"my,db"\n"a.b"' }).target).toEqual({
      kind: 'databases',
      databases: ['bank', 'shop', 'my,db', 'a.b']
    })
    expect(ok({ [Inputs.Tables]: 'bank.public.accounts\nbank.accounts, bank.public.accounts, "my,db"."t.1", shop.*' }).target).toEqual({
      kind: 'tables',
      tables: [
        { parts: ['bank', 'public', 'accounts'] },
        { parts: ['bank', 'accounts'] },
        { parts: ['my,db', 't.1'] },
        { parts: ['shop', '*'] }
      ]
    })
  })

  it('refuses both at once', () => {
    expect(refused({ [Inputs.Database]: 'bank', [Inputs.Tables]: 'bank.accounts' })).toMatch(
      /^Inputs 'database' and 'tables': give one or the other, not both/
    )
  })

  it.each<[string, Values]>([
    ['neither set', {}],
    ['both empty', { [Inputs.Database]: '', [Inputs.Tables]: '' }],
    ['only separators', { [Inputs.Database]: ' , \n , ' }],
    ['only separators in tables', { [Inputs.Tables]: ',\n' }]
  ])('refuses a cluster backup (%s), explaining userfile and restore', (_case, values) => {
    const message = refused(values)
    expect(message).toMatch(/^Inputs 'database' and 'tables': /)
    expect(message).toContain('userfile')
    expect(message).toMatch(/restore/i)
  })

  it('passes on the name parsers’ refusals, naming the input', () => {
    expect(refused({ [Inputs.Tables]: 'bank' })).toMatch(/^Input 'tables': /)
    expect(refused({ [Inputs.Tables]: '*.accounts' })).toMatch(/^Input 'tables': /)
    expect(refused({ [Inputs.Database]: '"unterminated' })).toMatch(/^Input 'database': /)
  })
})

describe('booleans', () => {
  it.each<[Inputs, keyof ActionInputs]>([
    [Inputs.Incremental, 'incremental'],
    [Inputs.RevisionHistory, 'revisionHistory']
  ])('%s reads the YAML 1.2 core booleans', (input, key) => {
    for (const text of ['true', 'True', 'TRUE', ' true ']) expect(ok({ ...BANK, [input]: text })[key], text).toBe(true)
    for (const text of ['false', 'False', 'FALSE', '']) expect(ok({ ...BANK, [input]: text })[key], text).toBe(false)
    for (const text of ['yes please', 'yes', 'on', '1', 'tRUE', 'truth']) {
      expect(refused({ ...BANK, [input]: text }), text).toMatch(
        new RegExp(`^Input '${input}': "${text}" is not a boolean: use true or false`)
      )
    }
  })
})

describe('seconds', () => {
  it('reads whole and decimal seconds into milliseconds', () => {
    expect(ok({ ...BANK, [Inputs.Timeout]: '90', [Inputs.WaitTimeout]: ' 1.5 ' })).toMatchObject({ timeoutMs: 90_000, waitTimeoutMs: 1500 })
    expect(ok({ ...BANK, [Inputs.Timeout]: '604800' }).timeoutMs).toBe(604_800_000)
  })

  it('allows wait-timeout 0 (try once) but not timeout 0', () => {
    expect(ok({ ...BANK, [Inputs.WaitTimeout]: '0' }).waitTimeoutMs).toBe(0)
    expect(refused({ ...BANK, [Inputs.Timeout]: '0' })).toMatch(/^Input 'timeout': 0 is out of range: use more than 0 to 604800 seconds/)
    expect(refused({ ...BANK, [Inputs.Timeout]: '0.0' })).toMatch(/^Input 'timeout': .*out of range/)
  })

  it('rounds a tiny timeout up to 1 ms, never down to 0', () => {
    expect(ok({ ...BANK, [Inputs.Timeout]: '0.0001' }).timeoutMs).toBe(1)
    expect(ok({ ...BANK, [Inputs.Timeout]: '0.0011' }).timeoutMs).toBe(2)
    expect(ok({ ...BANK, [Inputs.WaitTimeout]: '0.0001' }).waitTimeoutMs).toBe(1)
  })

  it.each<[Inputs, string]>([
    [Inputs.Timeout, 'abc'],
    [Inputs.Timeout, '-1'],
    [Inputs.Timeout, '1e3'],
    [Inputs.Timeout, '.5'],
    [Inputs.Timeout, '10s'],
    [Inputs.WaitTimeout, 'abc'],
    [Inputs.WaitTimeout, '-1'],
    [Inputs.WaitTimeout, '60 seconds']
  ])('%s refuses %j', (input, text) => {
    expect(refused({ ...BANK, [input]: text })).toMatch(new RegExp(`^Input '${input}': "${text}" is not a number of seconds`))
  })

  it('refuses more than a week', () => {
    expect(refused({ ...BANK, [Inputs.WaitTimeout]: '604801' })).toMatch(
      /^Input 'wait-timeout': 604801 is out of range: use 0 to 604800 seconds/
    )
  })
})

describe('container', () => {
  it.each(['cockroach', 'roach-1', 'my_db.node', 'a1b2c3d4e5f6', 'x'.repeat(255)])('accepts %j', name => {
    expect(ok({ ...BANK, [Inputs.Container]: name }).container).toBe(name)
  })

  it.each(['-flag', '.hidden', 'a b', 'a;rm -rf /', '$(id)', 'x'.repeat(256), 'name/with/slash'])('refuses %j', name => {
    expect(refused({ ...BANK, [Inputs.Container]: name })).toMatch(/^Input 'container': .*is not a Docker container name or id/)
  })
})

describe('subdirectory, passphrase, collection', () => {
  it('takes a subdirectory, trimmed', () => {
    expect(ok({ ...BANK, [Inputs.Subdirectory]: ' release-42 ' }).subdirectory).toBe('release-42')
  })

  it.each(['LATEST', 'latest', ' Latest '])('refuses the subdirectory %j, pointing to incremental', text => {
    expect(refused({ ...BANK, [Inputs.Subdirectory]: text })).toMatch(/^Input 'subdirectory': .*incremental: true/)
  })

  it('refuses NUL in the subdirectory and the passphrase', () => {
    expect(refused({ ...BANK, [Inputs.Subdirectory]: 'a\0b' })).toMatch(/^Input 'subdirectory': .*NUL/)
    expect(refused({ ...BANK, [Inputs.EncryptionPassphrase]: 'a\0b' })).toMatch(/^Input 'encryption-passphrase': .*NUL/)
  })

  it('keeps the passphrase exactly', () => {
    expect(ok({ ...BANK, [Inputs.EncryptionPassphrase]: "p'a\\ss; --" }).encryptionPassphrase).toBe("p'a\\ss; --")
    expect(ok({ ...BANK, [Inputs.EncryptionPassphrase]: '' }).encryptionPassphrase).toBeUndefined()
  })

  it('keeps the collection as written ($user unresolved) and refuses a non-URI', () => {
    expect(ok({ ...BANK, [Inputs.Collection]: ' userfile://defaultdb.public.userfiles_$user/x ' }).collection).toEqual({
      uri: 'userfile://defaultdb.public.userfiles_$user/x',
      scheme: 'userfile'
    })
    expect(refused({ ...BANK, [Inputs.Collection]: 'bank-backup' })).toMatch(/^Input 'collection': /)
  })
})

describe('every refusal names its input', () => {
  it.each<[string, Values]>([
    ['connection-string', { [Inputs.ConnectionString]: 'mysql://x' }],
    ['connection-string', { [Inputs.ConnectionString]: 'postgresql://root@localhost/db?sslmode=on' }],
    ['database', { [Inputs.Database]: '"a".b' }],
    ['tables', { [Inputs.Database]: '', [Inputs.Tables]: 'a.b.c.d' }],
    ['collection', { [Inputs.Collection]: 'nope' }],
    ['as-of-system-time', { [Inputs.AsOfSystemTime]: 'now()' }],
    ['subdirectory', { [Inputs.Subdirectory]: 'LATEST' }],
    ['incremental', { [Inputs.Incremental]: 'yes' }],
    ['full-every', { [Inputs.FullEvery]: '2 weeks' }],
    ['revision-history', { [Inputs.RevisionHistory]: 'no' }],
    ['encryption-passphrase', { [Inputs.EncryptionPassphrase]: '\0' }],
    ['wait-timeout', { [Inputs.WaitTimeout]: 'x' }],
    ['timeout', { [Inputs.Timeout]: 'x' }],
    ['container', { [Inputs.Container]: ' -x' }]
  ])('%s', (input, values) => {
    expect(refused({ ...BANK, ...values })).toMatch(new RegExp(`^Input '${input}': `))
  })
})

describe('full-every', () => {
  it('is refused beside incremental or subdirectory, naming both inputs and the reason', () => {
    expect(refused({ ...BANK, [Inputs.FullEvery]: '7d', [Inputs.Incremental]: 'true' })).toMatch(
      /^Inputs 'full-every' and 'incremental': full-every already chooses between a full backup and an incremental/
    )
    expect(refused({ ...BANK, [Inputs.FullEvery]: '7d', [Inputs.Subdirectory]: '2026/11/30-020000.00' })).toMatch(
      /^Inputs 'full-every' and 'subdirectory': /
    )
  })
})

describe('masking', () => {
  const PASSWORD_URL = 'postgresql://root:p%40ss%2Fw0rd@db.example.com:26257/defaultdb?sslmode=require'

  it('masks the password as written and percent-decoded, the passphrase, and collection credentials', () => {
    const { masked } = run({
      ...BANK,
      [Inputs.ConnectionString]: PASSWORD_URL,
      [Inputs.EncryptionPassphrase]: ' spaced passphrase ',
      [Inputs.Collection]: 's3://bucket/p?AWS_ACCESS_KEY_ID=AKIAPUBLIC&AWS_SECRET_ACCESS_KEY=abc%2Bdef&AWS_SESSION_TOKEN=tok'
    })
    expect(masked).toEqual(
      expect.arrayContaining(['p%40ss%2Fw0rd', 'p@ss/w0rd', ' spaced passphrase ', 'spaced passphrase', 'abc%2Bdef', 'abc+def', 'tok'])
    )
    expect(masked).not.toContain('AKIAPUBLIC')
    expect(masked).not.toContain('')
  })

  it.each<[string, Values]>([
    ['a bad timeout', { [Inputs.Timeout]: 'abc' }],
    ['a bad database list', { [Inputs.Database]: '"x', [Inputs.Tables]: '' }],
    ['both database and tables', { [Inputs.Tables]: 'bank.t' }],
    ['a bad as-of-system-time', { [Inputs.AsOfSystemTime]: '10s' }],
    ['a bad boolean', { [Inputs.Incremental]: 'yes please' }],
    ['a bad container', { [Inputs.Container]: '-x' }],
    ['a bad collection', { [Inputs.Collection]: 's3:/bucket?AWS_SECRET_ACCESS_KEY=collsecret' }],
    ['a malformed connection string', { [Inputs.ConnectionString]: 'postgresql://root:p%40ss%2Fw0rd@db.example.com:99999/defaultdb' }],
    ['an unsupported connection parameter', { [Inputs.ConnectionString]: `${PASSWORD_URL}&connect_timeout=5` }]
  ])('masks every secret before refusing %s', (_case, values) => {
    const all: Values = {
      ...BANK,
      [Inputs.ConnectionString]: PASSWORD_URL,
      [Inputs.EncryptionPassphrase]: 'the-passphrase',
      [Inputs.Collection]: 's3://bucket/p?AWS_SECRET_ACCESS_KEY=collsecret',
      ...values
    }
    const { error, masked } = run(all)
    expect(error).toBeInstanceOf(InputError)
    expect(masked).toEqual(expect.arrayContaining(['p%40ss%2Fw0rd', 'p@ss/w0rd', 'the-passphrase', 'collsecret']))
    for (const secret of ['p%40ss%2Fw0rd', 'p@ss/w0rd', 'the-passphrase', 'collsecret']) expect(error?.message).not.toContain(secret)
  })

  it('masks a client key given as PEM text before refusing anything else', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBC\nQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lC\n-----END PRIVATE KEY-----'
    const cert = '-----BEGIN CERTIFICATE-----\nY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----'
    const { error, masked } = run({ ...BANK, [Inputs.ClientCert]: cert, [Inputs.ClientKey]: key, [Inputs.Timeout]: 'abc' })
    expect(error?.message).toMatch(/^Input 'timeout': /)
    expect(masked).toEqual(expect.arrayContaining(['TUlJRXZRSUJBREFOQmdrcWhraUc5dzBC', 'QVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lC']))
  })
})

describe('download-connections', () => {
  it('is 4 unless set, takes 1 to 16, and refuses anything else by its name', () => {
    expect(ok(BANK).downloadConnections).toBe(4)
    expect(ok({ ...BANK, [Inputs.DownloadConnections]: ' 1 ' }).downloadConnections).toBe(1)
    expect(ok({ ...BANK, [Inputs.DownloadConnections]: '16' }).downloadConnections).toBe(16)
    for (const bad of ['0', '17', '-1', '2.5', 'four', '1e1'])
      expect(refused({ ...BANK, [Inputs.DownloadConnections]: bad })).toBe(
        `Input 'download-connections': "${bad}" is not a whole number from 1 to 16 (1 reads one file at a time; empty means 4).`
      )
  })
})

describe('download-path', () => {
  it('is for userfile collections (the default one included) only', () => {
    expect(ok({ ...BANK, [Inputs.DownloadPath]: ' backup-files ' }).downloadPath).toBe(resolve('backup-files'))
    expect(ok({ ...BANK, [Inputs.Collection]: 'userfile:///x', [Inputs.DownloadPath]: 'out' }).downloadPath).toBe(resolve('out'))
    expect(refused({ ...BANK, [Inputs.Collection]: 's3://bucket/p?AUTH=implicit', [Inputs.DownloadPath]: 'out' })).toMatch(
      /^Input 'download-path': .*userfile/
    )
  })

  it('refuses, before connecting, a userfile collection whose host names no tables, as the collection input', () => {
    const odd = { ...BANK, [Inputs.Collection]: 'userfile://a.b.c.d/x' }
    expect(ok(odd).collection.scheme).toBe('userfile') // without a download, CockroachDB judges the URI itself
    expect(refused({ ...odd, [Inputs.DownloadPath]: 'out' })).toMatch(/^Input 'collection': userfile:\/\/a\.b\.c\.d\/x: the table prefix/)
    expect(refused({ ...odd, [Inputs.KeepBackups]: '3' })).toMatch(/^Input 'collection': .*is not a table name/)
  })
})
