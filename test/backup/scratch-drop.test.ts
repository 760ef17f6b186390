/** The drops' deadline: its own budget, brought forward by a cancel to what the runner's grace period leaves. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DropDeadline } from '../../src/backup/scratch-drop.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('DropDeadline', () => {
  it('gives the drops a minute from their start, and 5.5 s from a cancel', () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const deadline = new DropDeadline(controller.signal)
    vi.advanceTimersByTime(120_000) // a long restore: the drops' minute starts when they do
    deadline.begin()
    expect(deadline.left()).toBe(60_000)
    vi.advanceTimersByTime(10_000)
    controller.abort('SIGINT')
    expect(deadline.left()).toBe(5_500)
    deadline.dispose()
  })

  it('counts from a cancel that came during the restore, before the drops began', () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const deadline = new DropDeadline(controller.signal)
    controller.abort('SIGINT')
    vi.advanceTimersByTime(4_000) // cancelling the restore job took 4 s
    deadline.begin()
    expect(deadline.left()).toBe(1_500)
  })

  it('fires a watch at the deadline, earlier when a cancel brings it forward', () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const deadline = new DropDeadline(controller.signal)
    deadline.begin()
    const expired = vi.fn()
    deadline.watch(expired)
    vi.advanceTimersByTime(1_000)
    controller.abort('SIGINT')
    vi.advanceTimersByTime(5_499)
    expect(expired).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(expired).toHaveBeenCalledTimes(1)
  })
})
