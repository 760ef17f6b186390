/**
 * The files a backup writes, with deterministic contents. The real BACKUP_MANIFEST is a gzipped
 * protobuf; here it is gzipped JSON of the few fields SHOW BACKUP needs, so the emulator reads its
 * own files back exactly as CockroachDB reads the manifest (and a downloaded copy stays readable).
 * Encryption follows storageccl's shape: a key from PBKDF2-SHA256 (64 000 rounds) over the passphrase
 * and the salt stored in ENCRYPTION-INFO, then AES-256-GCM behind an `encrypt` preamble
 * (pkg/ccl/storageccl/encryption.go; the chunked layout of the real format is not modelled).
 */
import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { CrdbError } from './errors.js'

export interface ManifestTable {
  database: string
  schema: string
  name: string
  /** This layer's rows and bytes (an incremental holds only what changed). */
  rows: number
  bytes: number
  /** The table's size when this layer was taken, to compute the next layer's change. */
  totalRows: number
  totalBytes: number
  /** `data/<n>.sst`, relative to the layer's folder; undefined when the layer holds no data for it. */
  dataFile: string | undefined
  /** A view (or other non-table relation), as SHOW TABLES will call it once restored; absent: a table. */
  kind?: 'view' | 'materialized view' | 'sequence'
  /** With `kind`: what count(*) on it returned at the end time (a view's query result). */
  viewRows?: number
}

export interface Manifest {
  jobId: string
  /** Null for a full backup; the previous layer's end for an incremental. */
  startTimeMs: number | null
  endTimeMs: number
  fullCluster: boolean
  revisionHistory: boolean
  databases: string[]
  schemas: { database: string; name: string }[]
  tables: ManifestTable[]
}

const PREAMBLE = Buffer.from('encrypt')
const VERSION = 1
const PBKDF2_ROUNDS = 64_000

export function deriveKey(passphrase: string, salt: Buffer): Buffer {
  return pbkdf2Sync(passphrase, salt, PBKDF2_ROUNDS, 32, 'sha256')
}

/** A salt that is stable for a job, so repeated test runs write identical files. */
export function saltFor(jobId: string): Buffer {
  return createHash('sha256').update(`salt:${jobId}`).digest().subarray(0, 16)
}

export function encrypt(plain: Buffer, key: Buffer, nonceSeed: string): Buffer {
  const nonce = createHash('sha256').update(`nonce:${nonceSeed}`).digest().subarray(0, 12)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  const body = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([PREAMBLE, Buffer.from([VERSION]), nonce, body, cipher.getAuthTag()])
}

export function appearsEncrypted(bytes: Buffer): boolean {
  return bytes.subarray(0, PREAMBLE.length).equals(PREAMBLE)
}

export function decrypt(bytes: Buffer, key: Buffer): Buffer {
  const start = PREAMBLE.length + 1
  const nonce = bytes.subarray(start, start + 12)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce)
  decipher.setAuthTag(bytes.subarray(bytes.length - 16))
  try {
    return Buffer.concat([decipher.update(bytes.subarray(start + 12, bytes.length - 16)), decipher.final()])
  } catch {
    // Go's AES-GCM Open fails with exactly this text when the key (passphrase) is wrong.
    throw new CrdbError('cipher: message authentication failed')
  }
}

export function encodeManifest(manifest: Manifest, key: Buffer | undefined, nonceSeed: string): Buffer {
  const zipped = gzipSync(Buffer.from(JSON.stringify(manifest)))
  return key ? encrypt(zipped, key, nonceSeed) : zipped
}

/** Reads a manifest back; errors are backupinfo.ReadBackupManifest's. */
export function decodeManifest(bytes: Buffer, key: Buffer | undefined): Manifest {
  if (!key && appearsEncrypted(bytes)) {
    // The proto error after the colon is what unmarshalling ciphertext gives; its exact text varies.
    throw new CrdbError(
      'file appears encrypted -- try specifying one of "encryption_passphrase" or "kms": proto: BackupManifest: illegal tag 0 (wire type 3)'
    )
  }
  const plain = key ? decrypt(bytes, key) : bytes
  return JSON.parse(gunzipSync(plain).toString('utf8')) as Manifest
}

/** BACKUP_MANIFEST-CHECKSUM: the first 4 bytes of SHA-256 over the stored manifest bytes (facts §12). */
export function manifestChecksum(stored: Buffer): Buffer {
  return createHash('sha256').update(stored).digest().subarray(0, 4)
}

/** Deterministic filler for SST files (xorshift32 seeded from the name). */
export function pseudoRandomBytes(length: number, seedText: string): Buffer {
  const out = Buffer.alloc(length)
  let x = createHash('sha256').update(seedText).digest().readUInt32BE(0) || 1
  for (let i = 0; i < length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
