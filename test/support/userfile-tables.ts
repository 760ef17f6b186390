/**
 * CockroachDB's two userfile tables in a real PostgreSQL (STRING→text, BYTES→bytea, UUID→uuid,
 * INT→bigint), filled the way CockroachDB's writer fills them: the file row first, then one payload
 * row per 4 MiB chunk keyed by its byte offset (pkg/cloud/userfile/filetable).
 */
import { randomUUID } from 'node:crypto'
import type pg from 'pg'

export const CHUNK = 4 * 1024 * 1024

export async function createUserfileTables(db: pg.ClientBase, prefix = 'userfiles_root'): Promise<void> {
  await db.query(`CREATE TABLE ${prefix}_upload_files (
    filename text PRIMARY KEY, file_id uuid UNIQUE NOT NULL DEFAULT gen_random_uuid(),
    file_size bigint NOT NULL, username text NOT NULL, upload_time timestamp DEFAULT now())`)
  await db.query(`CREATE TABLE ${prefix}_upload_payload (
    file_id uuid REFERENCES ${prefix}_upload_files (file_id), byte_offset bigint, payload bytea,
    PRIMARY KEY (file_id, byte_offset))`)
}

export interface StoreOptions {
  prefix?: string
  /** Recorded size, when a test wants it to disagree with the payload. */
  fileSize?: number
  /** Bytes per payload row; CockroachDB's writer uses CHUNK. */
  chunkSize?: number
}

export async function storeFile(db: pg.ClientBase, filename: string, content: Buffer, options: StoreOptions = {}): Promise<string> {
  const prefix = options.prefix ?? 'userfiles_root'
  const fileId = randomUUID()
  await db.query(`INSERT INTO ${prefix}_upload_files (filename, file_id, file_size, username) VALUES ($1, $2, $3, 'root')`, [
    filename,
    fileId,
    options.fileSize ?? content.length
  ])
  const chunk = options.chunkSize ?? CHUNK
  for (let offset = 0; offset < content.length; offset += chunk) {
    await db.query(`INSERT INTO ${prefix}_upload_payload (file_id, byte_offset, payload) VALUES ($1, $2, $3)`, [
      fileId,
      offset,
      content.subarray(offset, offset + chunk)
    ])
  }
  return fileId
}

/** Deterministic bytes (xorshift), so a failure can be reproduced. */
export function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
