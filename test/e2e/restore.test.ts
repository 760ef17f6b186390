/**
 * The restore companion end to end against the emulator: RESTORE with new-db-name, an existing
 * database refused or dropped, a failed job, and the full round trip — backup and download from one
 * cluster, upload and restore into a second — with byte-identical files.
 */
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runRestore } from '../../src/restore/run.js'
import { PROFILE_NAMES, startEmulator, type Emulator, type ProfileName } from '../emulator/index.js'
import { expectNoInternalsInAnyStatement } from '../support/no-internals.js'
import { ROOT, runBundledAction } from '../support/run-action.js'
import { scratchPerTest } from '../support/scratch.js'
import { errorsOf, runInProcess } from '../support/run-in-process.js'

expectNoInternalsInAnyStatement()

const { emulators, tempDir } = scratchPerTest('e2e-restore-')

async function cluster(profile: ProfileName = 'v23.2', jobDurationMs = 150): Promise<Emulator> {
  const emu = await startEmulator({ profile, jobDurationMs })
  emulators.push(emu)
  return emu
}

async function bankWithBackup(emu: Emulator, downloadPath?: string): Promise<Record<string, string>> {
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
  const backup = await runInProcess({
    database: 'bank',
    'connection-string': emu.connectionString(),
    ...(downloadPath ? { 'download-path': downloadPath } : {})
  })
  expect(errorsOf(backup.stdout)).toEqual([])
  return backup.outputs
}

const restore = (inputs: Record<string, string>) => runInProcess(inputs, runRestore)

/** A backup downloaded from one cluster and restored with source-path into a fresh one. */
async function restoreDownload(sourceProfile: ProfileName, targetProfile: ProfileName) {
  const source = await cluster(sourceProfile)
  const dir = tempDir()
  const backup = await bankWithBackup(source, join(dir, 'bank-backup'))
  const target = await cluster(targetProfile)
  const run = await restore({
    database: 'bank',
    'backup-path': backup['backup-path']!,
    'source-path': join(dir, 'bank-backup'),
    'connection-string': target.connectionString()
  })
  return { source, dir, backup, target, run }
}

function tablesOf(emu: Emulator, database: string): Record<string, number> {
  const db = emu.cluster.databases.get(database)
  const tables: Record<string, number> = {}
  for (const [schema, schemaTables] of db?.schemas ?? []) for (const [name, table] of schemaTables) tables[`${schema}.${name}`] = table.rows
  return tables
}

function userfiles(emu: Emulator): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (const tables of emu.cluster.userfiles.values()) {
    for (const file of tables.files) {
      const chunks = tables.payload.filter(p => p.fileId === file.fileId).sort((a, b) => a.byteOffset - b.byteOffset)
      files.set(file.filename, Buffer.concat(chunks.map(c => c.payload)))
    }
  }
  return files
}

describe('the restore companion', () => {
  it('on v21.2 refuses new-db-name and drop-existing: RESTORE has new_db_name from v22.1', async () => {
    const emu = await cluster('v21.2')
    const backup = await bankWithBackup(emu)
    for (const input of [{ 'new-db-name': 'bank_restored' }, { 'drop-existing': 'true' }] as Record<string, string>[]) {
      const run = await restore({
        database: 'bank',
        'backup-path': backup['backup-path']!,
        'connection-string': emu.connectionString(),
        ...input
      })
      expect(errorsOf(run.stdout).join('\n')).toMatch(
        new RegExp(
          `^Input '${Object.keys(input)[0]!}': needs RESTORE … WITH new_db_name, which CockroachDB has from v22\\.1; this cluster runs v21\\.2`
        )
      )
    }
    expect(emu.statements.filter(s => s.sql.startsWith('RESTORE'))).toEqual([])
  })

  for (const profile of PROFILE_NAMES.filter(name => name !== 'v21.1' && name !== 'v21.2')) {
    it(`on ${profile} restores beside the original with new-db-name`, async () => {
      const emu = await cluster(profile)
      const backup = await bankWithBackup(emu)
      const run = await restore({
        database: 'bank',
        'backup-path': backup['backup-path']!,
        'new-db-name': 'bank_restored',
        'connection-string': emu.connectionString()
      })
      expect(errorsOf(run.stdout)).toEqual([])
      expect(run.outputs['job-id']).toMatch(/^\d+$/)
      expect(run.outputs['restored-tables']).toBe('bank_restored.public.accounts,bank_restored.public.transfers')
      expect(run.outputs['rows']).toBe('1250')
      expect(tablesOf(emu, 'bank_restored')).toEqual({ 'public.accounts': 1000, 'public.transfers': 250 })
      const statement = emu.statements.find(s => s.sql.startsWith('RESTORE'))?.sql
      expect(statement).toBe(
        `RESTORE DATABASE bank FROM '${backup['backup-path']}' IN 'userfile://defaultdb.public.userfiles_root/bank-backup' WITH detached, new_db_name = 'bank_restored'`
      )
      expect(run.summary).toContain('CockroachDB restore')
    })
  }

  it("turns RESTORE's own XXUUU for an existing database into a message naming drop-existing and new-db-name", async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    const run = await restore({ database: 'bank', 'backup-path': backup['backup-path']!, 'connection-string': emu.connectionString() })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toMatch(/Database bank already exists[\s\S]*drop-existing: true[\s\S]*new-db-name/)
    expect(error).toContain('database "bank" already exists')
    expect(emu.statements.some(s => s.sql.includes('SHOW DATABASES'))).toBe(false)
    expect(run.outputs).toEqual({})
  })

  // From v22.2 SHOW DATABASES lists only databases the user may CONNECT to; RESTORE and RENAME see them all.
  for (const dropExisting of [false, true]) {
    it(`for a user without CONNECT on the existing database, ${dropExisting ? 'drop-existing replaces it' : 'still gives the clear message'} (v22.2+)`, async () => {
      const emu = await cluster('v22.2')
      const backup = await bankWithBackup(emu)
      emu.revokeConnect('bank')
      emu.cluster.databases.get('bank')!.schemas.get('public')!.get('accounts')!.rows = 1 // the "broken" state
      const run = await restore({
        database: 'bank',
        'backup-path': backup['backup-path']!,
        'drop-existing': String(dropExisting),
        collection: 'userfile://defaultdb.public.userfiles_root/bank-backup',
        'connection-string': emu.connectionString('deployer')
      })
      if (dropExisting) {
        expect(errorsOf(run.stdout)).toEqual([])
        expect(tablesOf(emu, 'bank')).toEqual({ 'public.accounts': 1000, 'public.transfers': 250 })
      } else {
        expect(run.exitCode).toBe(1)
        expect(errorsOf(run.stdout).join('\n')).toMatch(/Database bank already exists[\s\S]*drop-existing: true/)
      }
    })
  }

  const restoreBundle = (inputs: Record<string, string>) =>
    runBundledAction({ script: join(ROOT, 'dist/restore/index.js'), actionYml: join(ROOT, 'restore/action.yml'), inputs })

  const databaseNames = (emu: Emulator) => [...emu.cluster.databases.keys()].sort()

  it('with drop-existing: true restores under a temporary name, then swaps it in and drops the old copy', async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    emu.createDatabase('bank', { accounts: { rows: 1, bytes: 10 } }) // the "broken" state after a bad migration
    const run = await restoreBundle({
      database: 'bank',
      'backup-path': backup['backup-path']!,
      'drop-existing': 'true',
      'connection-string': emu.connectionString()
    })
    expect(errorsOf(run.stdout)).toEqual([])
    const sent = emu.statements.map(s => s.sql)
    const restoreAt = sent.findIndex(s => s.startsWith('RESTORE'))
    const temporary = /new_db_name = '(bank_restoring_[0-9a-f]{8})'/.exec(sent[restoreAt] ?? '')?.[1]
    expect(temporary).toBeDefined()
    const aside = temporary!.replace('restoring', 'replaced')
    const swap = [
      `ALTER DATABASE bank RENAME TO ${aside}`,
      `ALTER DATABASE ${temporary} RENAME TO bank`,
      `DROP DATABASE IF EXISTS ${aside} CASCADE`
    ]
    expect(sent.filter(s => /^(ALTER|DROP) DATABASE/.test(s))).toEqual(swap)
    expect(sent.indexOf(swap[0]!)).toBeGreaterThan(restoreAt)
    expect(tablesOf(emu, 'bank')).toEqual({ 'public.accounts': 1000, 'public.transfers': 250 })
    expect(databaseNames(emu)).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
    expect(run.outputs['restored-tables']).toBe('bank.public.accounts,bank.public.transfers')
  })

  it('with drop-existing: true and no database of that name, renames the restored copy into place and drops nothing', async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    const run = await restore({
      database: 'bank',
      'new-db-name': 'bank_copy',
      'backup-path': backup['backup-path']!,
      'drop-existing': 'true',
      'connection-string': emu.connectionString()
    })
    expect(errorsOf(run.stdout)).toEqual([])
    expect(emu.statements.some(s => s.sql.startsWith('DROP'))).toBe(false)
    expect(tablesOf(emu, 'bank_copy')).toEqual({ 'public.accounts': 1000, 'public.transfers': 250 })
    expect(databaseNames(emu)).toEqual(['bank', 'bank_copy', 'defaultdb', 'postgres', 'system'])
  })

  it('with drop-existing: true keeps the existing database whole when the restore job fails, and drops only its temporary one', async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    emu.createDatabase('bank', { accounts: { rows: 7, bytes: 10 } })
    emu.failNextJob({ message: 'simulated: restore ran out of disk' })
    const run = await restoreBundle({
      database: 'bank',
      'backup-path': backup['backup-path']!,
      'drop-existing': 'true',
      'connection-string': emu.connectionString()
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(/Restore job \d+ failed: simulated: restore ran out of disk/)
    expect(tablesOf(emu, 'bank')).toEqual({ 'public.accounts': 7 })
    expect(databaseNames(emu)).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
    const sent = emu.statements.map(s => s.sql)
    expect(sent.filter(s => s.startsWith('ALTER DATABASE'))).toEqual([])
    expect(sent.filter(s => s.startsWith('DROP'))).toEqual([
      expect.stringMatching(/^DROP DATABASE IF EXISTS bank_restoring_[0-9a-f]{8} CASCADE$/)
    ])
  })

  it('with drop-existing: true leaves the existing database as it is when it cannot be renamed aside (a view depends on it)', async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    emu.cluster.databases.get('bank')!.dependency = { dependent: 'bank.public.v', on: 'bank.public.accounts' }
    emu.cluster.databases.get('bank')!.schemas.get('public')!.get('accounts')!.rows = 3
    const run = await restoreBundle({
      database: 'bank',
      'backup-path': backup['backup-path']!,
      'drop-existing': 'true',
      'connection-string': emu.connectionString()
    })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toContain('bank could not be renamed aside, so it was left as it is')
    expect(error).toContain('(SQLSTATE 2BP01)')
    expect(error).toMatch(/Dropped the temporary database bank_restoring_[0-9a-f]{8}/)
    expect(tablesOf(emu, 'bank')).toEqual({ 'public.accounts': 3, 'public.transfers': 250 })
    expect(databaseNames(emu)).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
  })

  for (const [inputs, input] of [
    [{ database: 'defaultdb' }, 'database'],
    [{ database: 'bank', 'new-db-name': 'defaultdb' }, 'new-db-name'],
    [{ database: 'postgres' }, 'database'],
    [{ database: 'system' }, 'database']
  ] as const) {
    it(`refuses drop-existing for ${JSON.stringify(inputs)} before connecting: CockroachDB keeps that database itself`, async () => {
      const emu = await cluster()
      const run = await restoreBundle({
        ...inputs,
        'backup-path': '/2024/05/07-141012.34',
        'drop-existing': 'true',
        'connection-string': emu.connectionString()
      })
      expect(run.exitCode).toBe(1)
      expect(errorsOf(run.stdout).join('\n')).toMatch(
        new RegExp(`^Inputs 'drop-existing' and '${input}': drop-existing would replace \\w+, which CockroachDB creates and keeps itself`)
      )
      expect(emu.statements).toEqual([])
    })
  }

  it('refuses drop-existing of the database whose userfile tables hold the collection, before uploading or dropping anything', async () => {
    const source = await cluster()
    const dir = tempDir()
    const backup = await bankWithBackup(source, join(dir, 'bank-backup'))
    const target = await cluster()
    target.createDatabase('store', {})
    const run = await restoreBundle({
      database: 'bank',
      'new-db-name': 'store',
      'backup-path': backup['backup-path']!,
      'source-path': join(dir, 'bank-backup'),
      collection: 'userfile://store.public.files/bank-backup',
      'drop-existing': 'true',
      'connection-string': target.connectionString()
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(
      /^Inputs 'drop-existing', 'new-db-name', 'collection': drop-existing would drop store, whose userfile tables hold the collection userfile:\/\/store\.public\.files\/bank-backup/
    )
    expect(target.statements.map(s => s.sql).filter(s => !/^(SELECT|SET) /.test(s))).toEqual([])
    expect(target.cluster.databases.has('store')).toBe(true)
  })

  it('with drop-existing: true renames the existing database back when the restored copy cannot take its name', async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    emu.cluster.databases.get('bank')!.schemas.get('public')!.get('accounts')!.rows = 3
    emu.refuseStatements(/^ALTER DATABASE bank_restoring_\w+ RENAME TO bank$/, 'simulated: the rename failed', 'XX000')
    const run = await restoreBundle({
      database: 'bank',
      'backup-path': backup['backup-path']!,
      'drop-existing': 'true',
      'connection-string': emu.connectionString()
    })
    expect(run.exitCode).toBe(1)
    const error = errorsOf(run.stdout).join('\n')
    expect(error).toContain('simulated: the rename failed')
    expect(error).toMatch(/Renamed bank_replaced_[0-9a-f]{8} back to bank: the existing database is as it was\./)
    expect(error).toMatch(/Dropped the temporary database bank_restoring_[0-9a-f]{8}/)
    expect(tablesOf(emu, 'bank')).toEqual({ 'public.accounts': 3, 'public.transfers': 250 })
    expect(databaseNames(emu)).toEqual(['bank', 'defaultdb', 'postgres', 'system'])
  })

  it('makes an uploaded backup visible only once whole: index entries, checksum and manifest are renamed into place last', async () => {
    const { backup, target, run } = await restoreDownload('v26.2', 'v26.2')
    expect(errorsOf(run.stdout)).toEqual([])
    const placed = target.statements.filter(s => /^UPDATE .*_upload_files SET filename/.test(s.sql)).map(s => String(s.params[0]))
    expect(placed).toHaveLength(Number(backup['files']))
    const folder = `/bank-backup${backup['backup-path']}`
    expect(placed.slice(-2)).toEqual([`${folder}/BACKUP_MANIFEST-CHECKSUM`, `${folder}/BACKUP_MANIFEST`])
    const index = placed.findIndex(name => name.includes('/metadata/index/'))
    expect(index).toBe(placed.length - 3)
  })

  it('deletes the files it uploaded (and only those) when the restore fails, so a retry uploads them all again', async () => {
    const source = await cluster()
    const dir = tempDir()
    const backup = await bankWithBackup(source, join(dir, 'bank-backup'))
    const target = await cluster()
    target.createDatabase('shop', { orders: { rows: 5, bytes: 500 } })
    const own = await runInProcess({
      database: 'shop',
      collection: 'userfile://defaultdb.public.userfiles_root/bank-backup',
      'connection-string': target.connectionString()
    })
    expect(errorsOf(own.stdout)).toEqual([])
    const before = [...userfiles(target).keys()].sort()
    target.failNextRestore({ message: 'simulated: restore ran out of disk' })
    const inputs = {
      database: 'bank',
      'backup-path': backup['backup-path']!,
      'source-path': join(dir, 'bank-backup'),
      'connection-string': target.connectionString()
    }
    const failed = await restore(inputs)
    expect(failed.exitCode).toBe(1)
    expect(errorsOf(failed.stdout).join('\n')).toContain(
      `Deleted the ${backup['files']} files this run uploaded to /bank-backup${backup['backup-path']}.`
    )
    expect([...userfiles(target).keys()].sort()).toEqual(before)
    const retry = await restore(inputs)
    expect(errorsOf(retry.stdout)).toEqual([])
    expect(retry.outputs['uploaded-files']).toBe(backup['files'])
    expect(tablesOf(target, 'bank')).toEqual({ 'public.accounts': 1000, 'public.transfers': 250 })
  })

  for (const [profile, refused] of [
    ['v23.2', true],
    ['v22.1', false]
  ] as const) {
    it(`on ${profile} treats an uploaded folder without BACKUP_MANIFEST-CHECKSUM as the download does: ${refused ? 'refused, nothing uploaded' : 'a warning'}`, async () => {
      const source = await cluster(profile)
      const dir = tempDir()
      const backup = await bankWithBackup(source, join(dir, 'bank-backup'))
      rmSync(join(dir, 'bank-backup', 'BACKUP_MANIFEST-CHECKSUM'), { force: true })
      const target = await cluster(profile)
      const run = await restore({
        database: 'bank',
        'backup-path': backup['backup-path']!,
        'source-path': join(dir, 'bank-backup'),
        'connection-string': target.connectionString()
      })
      if (refused) {
        expect(run.exitCode).toBe(1)
        expect(errorsOf(run.stdout).join('\n')).toMatch(
          /BACKUP_MANIFEST has no BACKUP_MANIFEST-CHECKSUM next to it, which CockroachDB v23\.2\.\d+ always writes/
        )
        expect([...userfiles(target).keys()]).toEqual([])
      } else {
        expect(errorsOf(run.stdout)).toEqual([])
        expect(run.stdout).toMatch(/::warning::BACKUP_MANIFEST has no BACKUP_MANIFEST-CHECKSUM next to it, so it cannot be checked\./)
      }
    })
  }

  it('fails with the job error when the restore job fails, setting no outputs', async () => {
    const emu = await cluster()
    const backup = await bankWithBackup(emu)
    emu.failNextJob({ message: 'simulated: restore ran out of disk' })
    const run = await restore({
      database: 'bank',
      'backup-path': backup['backup-path']!,
      'new-db-name': 'b2',
      'connection-string': emu.connectionString()
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(/Restore job \d+ failed: simulated: restore ran out of disk/)
    expect(run.outputs).toEqual({})
    const job = [...emu.cluster.jobs.values()].at(-1)!
    expect(run.summary).toContain('<h2>CockroachDB restore of bank failed</h2>')
    expect(run.summary).toContain('<th align="left">Phase</th><td>Restore</td>')
    expect(run.summary).toContain(`<th align="left">Job</th><td>${job.id}</td>`)
    // The summary is HTML: quotes are escaped like every other character with a meaning there.
    expect(run.summary).toContain(
      `RESTORE DATABASE bank FROM &#39;${backup['backup-path']}&#39; IN &#39;userfile://defaultdb.public.userfiles_root/bank-backup&#39; WITH detached, new_db_name = &#39;b2&#39;`
    )
  })

  it('checks source-path before connecting: a folder that is no downloaded backup sends nothing to the cluster', async () => {
    const target = await cluster()
    const run = await restore({
      database: 'bank',
      'backup-path': '/2024/05/07-141012.34',
      'source-path': tempDir(),
      'connection-string': target.connectionString()
    })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout).join('\n')).toMatch(
      /^Input 'source-path': .* holds no BACKUP_MANIFEST: it is not a downloaded backup folder\./
    )
    expect(run.stdout).not.toContain('Connecting to CockroachDB')
    expect(target.statements).toEqual([])
  })

  for (const profile of ['v23.2', 'v25.4', 'v26.1', 'v26.2'] as const) {
    it(`round trip on ${profile}: backup and download from one cluster, upload and restore into a fresh one, files (and index entries) byte-identical`, async () => {
      const { source, backup, target, run } = await restoreDownload(profile, profile)
      expect(errorsOf(run.stdout)).toEqual([])
      expect(run.outputs['uploaded-files']).toBe(backup['files'])
      expect(tablesOf(target, 'bank')).toEqual(tablesOf(source, 'bank'))
      const folder = `/bank-backup${backup['backup-path']}/`
      // v25.4+: the chain's index entries travel with it and land under their directory's exact
      // name, whichever format the version wrote (facts §16).
      const index = '/bank-backup/metadata/index/'
      const ours = ([name]: [string, Buffer]): boolean => name.startsWith(folder) || name.startsWith(index)
      const sent = new Map([...userfiles(source)].filter(ours))
      const received = new Map([...userfiles(target)].filter(ours))
      expect([...received.keys()].filter(name => name.startsWith(index))).toHaveLength(source.profile.backupIndex === 'none' ? 0 : 1)
      expect([...received.keys()].sort()).toEqual([...sent.keys()].sort())
      for (const [name, bytes] of sent) expect(received.get(name)?.equals(bytes), name).toBe(true)
    })
  }

  it('uploads no v25.4-format index entries into v26.2, and says so; the restore reads the backup without them', async () => {
    const { source, backup, target, run } = await restoreDownload('v25.4', 'v26.2')
    expect(errorsOf(run.stdout)).toEqual([])
    expect(run.stdout).toContain('Not uploading 1 backup index entries: they are in the v25.4 format, and CockroachDB v26.2')
    expect(run.outputs['uploaded-files']).toBe(String(Number(backup['files']) - 1))
    expect([...userfiles(target).keys()].filter(name => name.includes('/metadata/index/'))).toEqual([])
    expect(tablesOf(target, 'bank')).toEqual(tablesOf(source, 'bank'))
  })

  for (const [profile, readable] of [
    ['v26.1', true],
    ['v26.2', false]
  ] as const) {
    it(`on ${profile} uploads a download as the non-date /release-42 (without index entries of another folder) and ${readable ? 'restores it' : "fails with CockroachDB's invalid subdir format"}`, async () => {
      const source = await cluster(profile)
      const dir = tempDir()
      await bankWithBackup(source, join(dir, 'bank-backup'))
      const target = await cluster(profile)
      const run = await restore({
        database: 'bank',
        'backup-path': '/release-42',
        'source-path': join(dir, 'bank-backup'),
        'connection-string': target.connectionString()
      })
      expect(run.stdout).toContain('Not uploading 1 backup index entries: index directory')
      expect([...userfiles(target).keys()].filter(name => name.includes('/metadata/index/'))).toEqual([])
      if (readable) {
        expect(errorsOf(run.stdout)).toEqual([])
        expect(tablesOf(target, 'bank')).toEqual(tablesOf(source, 'bank'))
      } else expect(errorsOf(run.stdout).join('\n')).toContain('invalid subdir format: /release-42')
    })
  }

  it('leaves no half file under a real name when the connection drops mid-upload', async () => {
    const source = await cluster()
    const dir = tempDir()
    source.createDatabase('big', { t: { rows: 10, bytes: 24 * 1024 * 1024 } })
    const backup = await runInProcess({
      database: 'big',
      'download-path': join(dir, 'big'),
      'connection-string': source.connectionString()
    })
    expect(errorsOf(backup.stdout)).toEqual([])
    const target = await cluster()
    let dropped = false
    const run = await runBundledAction({
      script: join(ROOT, 'dist/restore/index.js'),
      actionYml: join(ROOT, 'restore/action.yml'),
      inputs: {
        database: 'big',
        'backup-path': backup.outputs['backup-path']!,
        'source-path': join(dir, 'big'),
        'connection-string': target.connectionString()
      },
      onStart: () => {
        const timer = setInterval(() => {
          // Drop once the data file is half written under its temporary name.
          const tables = [...target.cluster.userfiles.values()]
          const partial = tables.flatMap(t =>
            t.files.filter(f => f.filename.endsWith('.sst.tmp')).map(f => t.payload.filter(p => p.fileId === f.fileId).length)
          )
          if (!dropped && partial.some(chunks => chunks >= 2)) {
            dropped = true
            target.dropConnections()
            clearInterval(timer)
          }
        }, 2)
        setTimeout(() => clearInterval(timer), 20_000)
      }
    })
    expect(dropped).toBe(true)
    expect(run.exitCode).toBe(1)
    const names = [...userfiles(target).keys()]
    // Every file under its real name is complete; anything partial is only under *.tmp.
    for (const [name, bytes] of userfiles(target)) {
      if (name.endsWith('.tmp')) continue
      const original = userfiles(source).get(name)
      expect(original?.equals(bytes), name).toBe(true)
    }
    expect(names.some(name => name.endsWith('.sst'))).toBe(false)
    // A rerun finishes the job and cleans up the temporary file.
    const rerun = await restore({
      database: 'big',
      'backup-path': backup.outputs['backup-path']!,
      'source-path': join(dir, 'big'),
      'connection-string': target.connectionString()
    })
    expect(errorsOf(rerun.stdout)).toEqual([])
    expect([...userfiles(target).keys()].filter(name => name.endsWith('.tmp'))).toEqual([])
  })

  it('names a file of source-path that went away during the upload, instead of an unexpected error', async () => {
    const source = await cluster()
    const dir = tempDir()
    const backup = await bankWithBackup(source, join(dir, 'bank-backup'))
    const data = readdirSync(join(dir, 'bank-backup', 'data'))
    expect(data.length).toBeGreaterThan(0)
    const target = await cluster()
    target.setQueryDelay(200, /^INSERT INTO .*_upload_files/)
    const gone = join(dir, 'bank-backup', 'data', data.at(-1)!)
    const watch = setInterval(() => {
      if (!target.statements.some(s => /^INSERT INTO .*_upload_files/.test(s.sql))) return
      clearInterval(watch)
      rmSync(gone)
    }, 5)
    const run = await runBundledAction({
      script: join(ROOT, 'dist/restore/index.js'),
      actionYml: join(ROOT, 'restore/action.yml'),
      inputs: {
        database: 'bank',
        'backup-path': backup['backup-path']!,
        'source-path': join(dir, 'bank-backup'),
        'connection-string': target.connectionString()
      }
    })
    clearInterval(watch)
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)[0]).toBe(`${gone}: no such file or directory (ENOENT).`)
  })
})
