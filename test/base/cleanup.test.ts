/** The step's undo list and the cancel race: the pieces of the one cancellation path. */
import { describe, expect, it } from 'vitest'
import { StepCleanup } from '../../src/base/cleanup.js'
import { CancelledError, unlessCancelled } from '../../src/base/errors.js'

describe('StepCleanup', () => {
  it('runs what is still registered, newest first, and skips what was released', async () => {
    const cleanup = new StepCleanup()
    const ran: string[] = []
    cleanup.add({ what: 'a', run: () => (ran.push('a'), Promise.resolve('undid a')) })
    const release = cleanup.add({ what: 'b', run: () => (ran.push('b'), Promise.resolve('undid b')) })
    cleanup.add({ what: 'c', run: () => (ran.push('c'), Promise.resolve(undefined)) })
    release()
    expect(await cleanup.undoAll()).toEqual(['undid a'])
    expect(ran).toEqual(['c', 'a'])
    expect(cleanup.size).toBe(0)
  })

  it('reports a failed undo and carries on with the next', async () => {
    const cleanup = new StepCleanup()
    cleanup.add({ what: 'delete x', run: () => Promise.resolve('deleted x') })
    cleanup.add({ what: 'cancel job 1', run: () => Promise.reject(new Error('connection refused')) })
    expect(await cleanup.undoAll()).toEqual(['Could not cancel job 1: connection refused', 'deleted x'])
  })

  it('gives up on an undo that hangs once the budget is spent, and says what is left to do by hand', async () => {
    const cleanup = new StepCleanup()
    cleanup.add({ what: 'delete x', run: () => Promise.resolve('deleted x') })
    cleanup.add({ what: 'cancel job 1', run: () => new Promise<string>(() => undefined) })
    expect(await cleanup.undoAll(50)).toEqual([
      'Could not cancel job 1 in time; do it by hand.',
      'No time was left to delete x; do it by hand.'
    ])
  })
})

describe('unlessCancelled', () => {
  it('gives the work its result when no signal comes', async () => {
    expect(await unlessCancelled(Promise.resolve(7), new AbortController().signal, 'waiting')).toBe(7)
  })

  it('rejects at once when the signal aborts, drops the hung work, and names the signal and what was being done', async () => {
    const controller = new AbortController()
    let dropped = false
    const pending = unlessCancelled(new Promise(() => undefined), controller.signal, 'reading backup /x', () => (dropped = true))
    controller.abort('SIGINT')
    await expect(pending).rejects.toThrow(new CancelledError('SIGINT', 'reading backup /x'))
    await expect(pending).rejects.toThrow('The workflow was cancelled (SIGINT) while reading backup /x.')
    expect(dropped).toBe(true)
  })

  it('does not start waiting when the signal has already aborted', async () => {
    const controller = new AbortController()
    controller.abort('SIGTERM')
    let dropped = false
    await expect(unlessCancelled(Promise.resolve(1), controller.signal, 'listing', () => (dropped = true))).rejects.toBeInstanceOf(
      CancelledError
    )
    expect(dropped).toBe(true)
  })
})
