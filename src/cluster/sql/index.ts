/**
 * The only place SQL text is assembled: the files of this folder, one per kind of statement. Every
 * identifier goes through quoteIdent and every string through quoteLiteral; nothing a user typed
 * reaches a statement any other way.
 */
export { quoteIdent, quoteLiteral, qualifiedTableName } from './quote.js'
export * from './session.js'
export * from './jobs.js'
export * from './backups.js'
export * from './userfile.js'
export * from './catalog.js'
