/**
 * A bound on the bytes held in memory across several streams: each takes bytes before it holds
 * them and gives them back once they are written. A stream that asks for more than is left waits
 * (its socket stays paused meanwhile), first come first served, so memory stays bounded however
 * many streams run. A request larger than the whole budget waits until nothing else is held.
 */
export class ByteBudget {
  private used = 0
  private highest = 0
  private readonly waiting: { bytes: number; resolve: () => void; reject: (error: Error) => void }[] = []
  private failure: { error: Error } | undefined

  constructor(readonly limit: number) {}

  /** The most bytes ever held at once. */
  get peak(): number {
    return this.highest
  }

  take(bytes: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error)
    if (this.waiting.length === 0 && this.fits(bytes)) {
      this.hold(bytes)
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => this.waiting.push({ bytes, resolve, reject }))
  }

  give(bytes: number): void {
    this.used -= bytes
    while (this.failure === undefined && this.waiting[0] !== undefined && this.fits(this.waiting[0].bytes)) {
      const next = this.waiting.shift()
      if (next === undefined) break
      this.hold(next.bytes)
      next.resolve()
    }
  }

  /** Every stream waiting, and every later request, fails with `error`: the work is over. */
  fail(error: unknown): void {
    this.failure ??= { error: error instanceof Error ? error : new Error(String(error)) }
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure.error)
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit
  }

  private hold(bytes: number): void {
    this.used += bytes
    this.highest = Math.max(this.highest, this.used)
  }
}
