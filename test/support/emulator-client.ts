/**
 * What the emulator's own tests share: an emulator on a stopped clock with a bank database, raw-text
 * `pg` clients, and helpers to read a failure, follow a job and list backups. Each test file that
 * imports this closes its emulators and clients after every test.
 */
import pg from 'pg'
import { afterEach } from 'vitest'
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js'

export const COLLECTION = 'userfile://defaultdb.public.userfiles_root/bank-backup'
/** 2024-05-07 14:10:22.345 UTC: with AS OF SYSTEM TIME '-10s' the folder is /2024/05/07-141012.34. */
export const BASE_MS = Date.UTC(2024, 4, 7, 14, 10, 22, 345)
export const TEN_SECONDS_AGO_FOLDER = '/2024/05/07-141012.34'

/** Raw text for every type, so tests see exactly what the server sent. */
export const rawText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig

const emulators: Emulator[] = []
const clients: pg.Client[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map(c => c.end().catch((error: unknown) => error)))
  await Promise.all(emulators.splice(0).map(e => e.close()))
})

/** A stopped clock: folder names and times are exact. Jobs advance on their own timer, not on this clock. */
export const fixedClock = (): (() => Date) => () => new Date(BASE_MS)

export async function emulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emu = await startEmulator({ profile: 'v23.2', now: fixedClock(), jobDurationMs: 60, ...options })
  emu.createDatabase('bank', { accounts: { rows: 1000, bytes: 65_536 }, transfers: { rows: 10, bytes: 900 } })
  emulators.push(emu)
  return emu
}

export async function connect(emu: Emulator, config: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: emu.connectionString(), types: rawText, ...config })
  clients.push(client)
  await client.connect()
  return client
}

export async function failure(promise: Promise<unknown>): Promise<pg.DatabaseError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(error instanceof pg.DatabaseError)) throw new Error(`expected a DatabaseError, got ${String(error)}`)
  return error
}

export const JOB_STATUS = 'SELECT status, fraction_completed, error, description FROM crdb_internal.jobs WHERE job_id = $1'

export interface JobRow {
  status: string
  fraction_completed: string
  error: string
  description: string
}

export async function pollJob(client: pg.Client, jobId: string): Promise<JobRow[]> {
  const seen: JobRow[] = []
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query<JobRow>({ name: 'job-status', text: JOB_STATUS, values: [jobId] })
    const row = rows[0]
    if (!row) throw new Error(`job ${jobId} not found`)
    seen.push(row)
    if (['succeeded', 'failed', 'canceled'].includes(row.status)) return seen
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  throw new Error('job did not finish')
}

export async function detachedBackup(client: pg.Client, sql: string): Promise<{ jobId: string; history: JobRow[] }> {
  const { rows } = await client.query<{ job_id: string }>(sql)
  const jobId = rows[0]?.job_id ?? ''
  return { jobId, history: await pollJob(client, jobId) }
}

export async function paths(client: pg.Client, collection = COLLECTION): Promise<string[]> {
  const { rows } = await client.query<{ path: string }>(`SHOW BACKUPS IN '${collection}'`)
  return rows.map(r => r.path)
}
