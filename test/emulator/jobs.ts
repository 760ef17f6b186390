/**
 * The job registry: BACKUP jobs advance over a configurable duration (fraction_completed rising),
 * then run their work (writing the backup) and succeed, or fail with the work's error. A job keeps
 * running when the client that started it goes away, as CockroachDB's jobs do.
 * Status names and the cancel rules follow pkg/jobs/jobs.go and pkg/jobs/update.go.
 */
import type { Cluster, Job } from './cluster.js'
import { cannotCancel, CrdbError, jobCanceledByUser, jobNotFound } from './errors.js'

/** Job ids look like CockroachDB's (unique_rowid-sized, beyond 2^53). */
const FIRST_JOB_ID = 960123456789012345n

export interface JobFailure {
  message: string
  code?: string
}

interface Running {
  job: Job
  progressMs: number
  complete: () => void
  waiters: (() => void)[]
  /** The error as a value, kept so a waiting statement can return it with its SQLSTATE. */
  failure: CrdbError | undefined
  /** Stays `running` without progress until cancelled (cockroach #123207 on v23.2). */
  neverStarts: boolean
}

export class JobRegistry {
  private nextId = FIRST_JOB_ID
  private readonly running = new Map<string, Running>()
  private timer: NodeJS.Timeout | undefined
  private failNext: JobFailure | undefined
  paused = false

  constructor(
    private readonly cluster: Cluster,
    public durationMs: number,
    private readonly tickMs = 10
  ) {}

  /**
   * Creates a running BACKUP job. `complete` runs when the job's time is up; if it throws, the job
   * fails with that error. `done` resolves when the job reaches a terminal status, with its error.
   */
  create(
    user: string,
    description: string,
    complete: (job: Job) => void,
    options: { neverStarts?: boolean } = {}
  ): { job: Job; done: Promise<CrdbError | undefined> } {
    const now = this.cluster.now()
    const job: Job = {
      id: String(this.nextId++),
      type: 'BACKUP',
      description,
      user,
      status: 'running',
      fractionCompleted: 0,
      error: '',
      created: now,
      started: now,
      finished: undefined,
      modified: now,
      result: { rows: 0, indexEntries: 0, bytes: 0 }
    }
    this.cluster.jobs.set(job.id, job)
    const injected = this.failNext
    this.failNext = undefined
    const entry: Running = {
      job,
      progressMs: 0,
      waiters: [],
      failure: undefined,
      neverStarts: options.neverStarts ?? false,
      complete: () => {
        if (injected) throw new CrdbError(injected.message, injected.code)
        complete(job)
      }
    }
    this.running.set(job.id, entry)
    this.schedule()
    const done = new Promise<CrdbError | undefined>(resolve => {
      entry.waiters.push(() => resolve(entry.failure))
    })
    return { job, done }
  }

  failNextJob(failure: JobFailure): void {
    this.failNext = failure
  }

  /** CANCEL JOB: running or paused jobs go to cancel-requested, then canceled on the next tick. */
  cancel(id: string): void {
    const job = this.cluster.jobs.get(id)
    if (!job) throw jobNotFound(id)
    if (job.status === 'cancel-requested' || job.status === 'canceled') return
    if (job.status !== 'pending' && job.status !== 'running' && job.status !== 'paused') {
      throw cannotCancel(this.cluster.profile.jobStateWord, job.status)
    }
    job.status = 'cancel-requested'
    job.modified = this.cluster.now()
  }

  private schedule(): void {
    if (this.timer || this.running.size === 0) return
    this.timer = setInterval(() => this.tick(), this.tickMs)
    // Jobs never keep the test process alive on their own.
    this.timer.unref()
  }

  private tick(): void {
    for (const entry of [...this.running.values()]) this.advance(entry)
    if (this.running.size === 0) this.stop()
  }

  private advance(entry: Running): void {
    const { job } = entry
    const now = this.cluster.now()
    if (job.status === 'cancel-requested') return this.finish(entry, 'canceled', jobCanceledByUser())
    if (this.paused || entry.neverStarts) return
    entry.progressMs += this.tickMs
    if (entry.progressMs < this.durationMs) {
      job.fractionCompleted = Math.min(0.99, entry.progressMs / Math.max(this.durationMs, 1))
      job.modified = now
      return
    }
    try {
      entry.complete()
      job.fractionCompleted = 1
      this.finish(entry, 'succeeded', undefined)
    } catch (error) {
      const failure = error instanceof CrdbError ? error : new CrdbError(String(error))
      job.error = failure.message
      this.finish(entry, 'failed', failure)
    }
  }

  private finish(entry: Running, status: 'succeeded' | 'failed' | 'canceled', failure: CrdbError | undefined): void {
    const { job } = entry
    job.status = status
    job.finished = this.cluster.now()
    job.modified = job.finished
    entry.failure = failure
    this.running.delete(job.id)
    for (const waiter of entry.waiters) waiter()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
