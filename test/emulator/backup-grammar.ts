/**
 * The grammar of BACKUP, RESTORE and SHOW (SHOW BACKUPS IN, SHOW BACKUP … IN, and SHOW JOB, which
 * starts the same way): targets, destinations, AS OF SYSTEM TIME and the WITH options.
 */
import type {
  AsOf,
  BackupOptions,
  BackupStatement,
  BackupTargets,
  Destination,
  RestoreStatement,
  ShowBackupStatement,
  Statement,
  TablePattern,
  Value
} from './statements.js'
import { TokenCursor } from './token-cursor.js'

export class BackupGrammar extends TokenCursor {
  show(): Statement {
    if (this.acceptWord('job')) return { kind: 'show-job', jobId: this.value() }
    if (this.acceptWord('backups')) {
      this.expectWord('in')
      return { kind: 'show-backups', collection: this.value() }
    }
    this.expectWord('backup')
    const spelledWithFrom = this.acceptWord('from')
    const subdir: Value = this.acceptWord('latest') ? { kind: 'string', value: 'LATEST' } : this.value()
    this.expectWord('in')
    const collection = this.value()
    const statement: ShowBackupStatement = {
      kind: 'show-backup',
      subdir,
      collection,
      spelledWithFrom,
      checkFiles: false,
      passphrase: undefined
    }
    if (this.acceptWord('with')) {
      do {
        if (this.acceptWord('check_files')) statement.checkFiles = true
        else if (this.acceptWord('encryption_passphrase')) {
          this.expectPunct('=')
          statement.passphrase = this.value()
        } else this.fail()
      } while (this.acceptPunct(','))
    }
    return statement
  }

  restore(): RestoreStatement {
    const backup = this.backupTargets()
    this.expectWord('from')
    const path = this.value()
    this.expectWord('in')
    const collection = this.value()
    const statement: RestoreStatement = {
      kind: 'restore',
      targets: backup,
      path,
      collection,
      asOf: this.asOf(),
      detached: false,
      newDbName: undefined,
      intoDb: undefined,
      passphrase: undefined
    }
    if (!this.acceptWord('with')) return statement
    const wrapped = this.acceptWord('options')
    if (wrapped) this.expectPunct('(')
    do {
      if (this.acceptWord('detached')) statement.detached = this.optionalBoolean()
      else if (this.acceptWord('new_db_name')) {
        this.expectPunct('=')
        statement.newDbName = this.value()
      } else if (this.acceptWord('into_db')) {
        this.expectPunct('=')
        statement.intoDb = this.value()
      } else if (this.acceptWord('encryption_passphrase')) {
        this.expectPunct('=')
        statement.passphrase = this.value()
      } else this.fail()
    } while (this.acceptPunct(','))
    if (wrapped) this.expectPunct(')')
    return statement
  }

  backupTargets(): BackupTargets {
    if (this.acceptWord('database')) {
      const names: string[] = []
      do {
        names.push(this.name())
      } while (this.acceptPunct(','))
      return { kind: 'databases', names }
    }
    if (this.acceptWord('table')) {
      const patterns: TablePattern[] = []
      do {
        patterns.push(this.tablePattern())
      } while (this.acceptPunct(','))
      return { kind: 'tables', patterns }
    }
    return { kind: 'cluster' }
  }

  backup(): BackupStatement {
    const targets = this.backupTargets()
    this.expectWord('into')
    let destination: Destination
    let collection: Value
    if (this.acceptWord('latest')) {
      this.expectWord('in')
      destination = { kind: 'latest' }
      collection = this.value()
    } else {
      const first = this.value()
      if (this.acceptWord('in')) {
        destination = { kind: 'subdir', subdir: first }
        collection = this.value()
      } else {
        destination = { kind: 'new' }
        collection = first
      }
    }
    const asOf = this.asOf()
    const options = this.backupOptions()
    return { kind: 'backup', targets, destination, collection, asOf, options }
  }

  tablePattern(): TablePattern {
    if (this.acceptPunct('*')) return { parts: [], star: true }
    const parts = [this.name()]
    while (this.acceptPunct('.')) {
      if (this.acceptPunct('*')) return { parts, star: true }
      parts.push(this.name())
    }
    if (parts.length > 3) this.fail(this.peek(-1))
    return { parts, star: false }
  }

  asOf(): AsOf | undefined {
    if (!this.acceptWord('as')) return undefined
    this.expectWord('of')
    this.expectWord('system')
    this.expectWord('time')
    if (this.acceptWord('follower_read_timestamp') || this.acceptWord('experimental_follower_read_timestamp')) {
      this.expectPunct('(')
      this.expectPunct(')')
      return { kind: 'follower-read', text: 'follower_read_timestamp()' }
    }
    const token = this.peek()
    const value = this.value()
    if (value.kind === 'number') this.fail(token)
    return { kind: 'value', value, text: this.sql.slice(token.start, this.peek(-1).end) }
  }

  backupOptions(): BackupOptions {
    const options: BackupOptions = { detached: false, revisionHistory: false, passphrase: undefined }
    if (!this.acceptWord('with')) return options
    const wrapped = this.acceptWord('options')
    if (wrapped) this.expectPunct('(')
    do {
      if (this.acceptWord('detached')) options.detached = this.optionalBoolean()
      else if (this.acceptWord('revision_history')) options.revisionHistory = this.optionalBoolean()
      else if (this.acceptWord('encryption_passphrase')) {
        this.expectPunct('=')
        options.passphrase = this.value()
      } else this.fail()
    } while (this.acceptPunct(','))
    if (wrapped) this.expectPunct(')')
    return options
  }

  /** `detached`, `detached = true` or `detached = false`. */
  optionalBoolean(): boolean {
    if (!this.acceptPunct('=')) return true
    if (this.acceptWord('true')) return true
    if (this.acceptWord('false')) return false
    return this.fail()
  }
}
