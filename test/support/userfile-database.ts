/** A fresh `defaultdb` holding CockroachDB's userfile tables in a real PostgreSQL, with an admin client and the action's Session on it. */
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import { parseConnectionString } from '../../src/cluster/connection-string.js'
import { Session } from '../../src/cluster/connection.js'
import { startPostgres, type PostgresServer } from './postgres.js'
import { createUserfileTables } from './userfile-tables.js'

export interface UserfileDatabase {
  url: string
  admin: pg.Client
  session: Session
}

export async function freshUserfileDatabase(server: PostgresServer): Promise<UserfileDatabase> {
  await server.query('DROP DATABASE IF EXISTS defaultdb WITH (FORCE)')
  await server.query('CREATE DATABASE defaultdb')
  const url = server.url({ database: 'defaultdb', sslmode: 'disable' })
  const admin = new pg.Client({ connectionString: url })
  admin.on('error', () => undefined) // a test may terminate every backend; it checks what the action did
  await admin.connect()
  await createUserfileTables(admin)
  const session = await Session.open(parseConnectionString(url), { waitTimeoutMs: 5000 })
  return { url, admin, session }
}

/** What {@link userfileDatabasePerTest} hands the tests: its fields are set by its hooks and read when a test runs. */
export interface UserfileDatabaseFixture extends UserfileDatabase {
  server: PostgresServer
}

/**
 * Registers, in the file or `describe` that calls it, one real PostgreSQL for all its tests and a
 * {@link freshUserfileDatabase} for each test, ended after it. A test may replace `session` (say,
 * after terminating every backend): whichever session the fixture holds at the end is closed.
 */
export function userfileDatabasePerTest(): UserfileDatabaseFixture {
  const db = {} as UserfileDatabaseFixture
  beforeAll(async () => {
    db.server = await startPostgres()
  }, 30_000)
  afterAll(async () => {
    await db.server?.stop()
  })
  beforeEach(async () => {
    Object.assign(db, await freshUserfileDatabase(db.server))
  })
  afterEach(async () => {
    await db.session?.close()
    await db.admin?.end().catch(() => undefined) // may already be terminated
  })
  return db
}
