/**
 * BEGIN / COMMIT / ROLLBACK, for the userfile tables only: BEGIN takes a snapshot of every
 * prefix's rows and ROLLBACK puts it back, and after an error the transaction is aborted as in
 * CockroachDB (every statement but COMMIT/ROLLBACK fails with 25P02; COMMIT then rolls back).
 * Other sessions see uncommitted rows (no isolation), and databases are not part of the snapshot.
 */
import type { Cluster, PayloadRow, UserfileRow } from './cluster.js'
import { CrdbError } from './errors.js'
import type { Session } from './wire.js'

interface OpenTransaction {
  snapshot: Map<string, { files: UserfileRow[]; payload: PayloadRow[] }>
  aborted: boolean
}

export class Transactions {
  private readonly open = new WeakMap<Session, OpenTransaction>()

  constructor(private readonly cluster: Cluster) {}

  /** Called before each statement: an aborted transaction takes nothing but its end. */
  check(session: Session, isEnd: boolean): void {
    if (this.open.get(session)?.aborted && !isEnd) {
      throw new CrdbError('current transaction is aborted, commands ignored until end of transaction block', '25P02')
    }
  }

  /** Whether the session is inside BEGIN … COMMIT. */
  isOpen(session: Session): boolean {
    return this.open.has(session)
  }

  /** Called when a statement fails inside a transaction. */
  failed(session: Session): void {
    const transaction = this.open.get(session)
    if (transaction) transaction.aborted = true
  }

  /** Runs BEGIN, COMMIT or ROLLBACK; returns the command tag. */
  apply(session: Session, action: 'begin' | 'commit' | 'rollback'): string {
    const transaction = this.open.get(session)
    if (action === 'begin') {
      if (transaction) throw new CrdbError('there is already a transaction in progress', '25001')
      const snapshot = new Map(
        [...this.cluster.userfiles].map(([prefix, tables]) => [
          prefix,
          { files: tables.files.map(f => ({ ...f })), payload: [...tables.payload] }
        ])
      )
      this.open.set(session, { snapshot, aborted: false })
      return 'BEGIN'
    }
    this.open.delete(session)
    // Outside a transaction COMMIT and ROLLBACK change nothing (the restore companion's upload relies on it).
    if (!transaction) return action.toUpperCase()
    if (action === 'commit' && !transaction.aborted) return 'COMMIT'
    for (const [prefix, saved] of transaction.snapshot) {
      const tables = this.cluster.userfiles.get(prefix)
      if (!tables) continue
      tables.files = saved.files
      tables.payload = saved.payload
    }
    return 'ROLLBACK'
  }
}
