/** userfile's two tables: listing, reading, writing, renaming and deleting files. */

/** userfile listing, as `cockroach userfile get` does it (pkg/cloud/userfile/filetable). */
export function listUserfiles(filesTable: string): string {
  return `SELECT filename, file_id, file_size FROM ${filesTable} WHERE filename LIKE $1 ORDER BY filename`
}

/**
 * Every chunk of one file, in order, as one streamed query (Session.streamBinary): binary result
 * format, so the payload arrives as its raw bytes, half of base64 over the wire and no decode;
 * one query per file, so there is no round trip per chunk (bench/download.ts measures both).
 */
export function readUserfileChunks(payloadTable: string): string {
  return `SELECT byte_offset, payload FROM ${payloadTable} WHERE file_id = $1 ORDER BY byte_offset`
}

/** Every chunk of several small files in one streamed query, file by file and in order within each. */
export function readUserfileChunksOfFiles(payloadTable: string): string {
  return `SELECT file_id, byte_offset, payload FROM ${payloadTable} WHERE file_id = ANY($1::UUID[]) ORDER BY file_id, byte_offset`
}

/** One stored file by name. */
export function findUserfile(filesTable: string): string {
  return `SELECT filename, file_id, file_size FROM ${filesTable} WHERE filename = $1`
}

export function insertUserfile(filesTable: string): string {
  return `INSERT INTO ${filesTable} (filename, file_id, file_size, username) VALUES ($1, $2, $3, $4)`
}

export function insertUserfileChunk(payloadTable: string): string {
  return `INSERT INTO ${payloadTable} (file_id, byte_offset, payload) VALUES ($1, $2, $3)`
}

export function userfileChunkTotals(payloadTable: string): string {
  return `SELECT count(*) AS chunks, COALESCE(sum(length(payload)), 0) AS bytes FROM ${payloadTable} WHERE file_id = $1`
}

export function deleteUserfilePayload(payloadTable: string): string {
  return `DELETE FROM ${payloadTable} WHERE file_id = $1`
}

export function deleteUserfile(filesTable: string): string {
  return `DELETE FROM ${filesTable} WHERE file_id = $1`
}

/**
 * The chunks of every file whose name matches the LIKE pattern $1: one statement for a whole
 * folder, so a backup's files go in one transaction without a round trip per file.
 */
export function deleteUserfilePayloadLike(payloadTable: string, filesTable: string): string {
  return `DELETE FROM ${payloadTable} WHERE file_id IN (SELECT file_id FROM ${filesTable} WHERE filename LIKE $1)`
}

/** The file rows whose name matches the LIKE pattern $1 (after their chunks: the payload refers to them). */
export function deleteUserfilesLike(filesTable: string): string {
  return `DELETE FROM ${filesTable} WHERE filename LIKE $1`
}

/** The chunks of the files whose ids are in the UUID array $1: what one run wrote, and nothing else. */
export function deleteUserfilePayloadOfIds(payloadTable: string): string {
  return `DELETE FROM ${payloadTable} WHERE file_id = ANY($1::UUID[])`
}

/** The file rows whose ids are in the UUID array $1 (after their chunks). */
export function deleteUserfilesOfIds(filesTable: string): string {
  return `DELETE FROM ${filesTable} WHERE file_id = ANY($1::UUID[])`
}

export function renameUserfile(filesTable: string): string {
  return `UPDATE ${filesTable} SET filename = $1 WHERE file_id = $2`
}
