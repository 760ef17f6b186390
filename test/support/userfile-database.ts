/** A fresh `defaultdb` holding CockroachDB's userfile tables in a real PostgreSQL, with an admin client and the action's Session on it. */
import pg from 'pg'
import { parseConnectionString } from '../../src/connection-string.js'
import { Session } from '../../src/connection.js'
import type { PostgresServer } from './postgres.js'
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
