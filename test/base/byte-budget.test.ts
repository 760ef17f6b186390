import { describe, expect, it } from 'vitest'
import { ByteBudget } from '../../src/base/byte-budget.js'

describe('ByteBudget', () => {
  it('lets bytes in while they fit, holds the rest in order until bytes are given back', async () => {
    const budget = new ByteBudget(10)
    const granted: string[] = []
    await budget.take(6)
    const second = budget.take(6).then(() => granted.push('second'))
    const third = budget.take(1).then(() => granted.push('third')) // fits, but waits its turn
    await new Promise(r => setTimeout(r, 5))
    expect(granted).toEqual([])
    budget.give(6)
    await Promise.all([second, third])
    expect(granted).toEqual(['second', 'third'])
    expect(budget.peak).toBe(7)
  })

  it('lets a request larger than the whole budget in only once nothing else is held', async () => {
    const budget = new ByteBudget(10)
    await budget.take(3)
    let big = false
    const pending = budget.take(25).then(() => (big = true))
    await new Promise(r => setTimeout(r, 5))
    expect(big).toBe(false)
    budget.give(3)
    await pending
    expect(budget.peak).toBe(25)
  })

  it('fails every waiting and later request once the work has failed', async () => {
    const budget = new ByteBudget(4)
    await budget.take(4)
    const waiting = budget.take(4)
    budget.fail(new Error('a stream failed'))
    await expect(waiting).rejects.toThrow('a stream failed')
    await expect(budget.take(1)).rejects.toThrow('a stream failed')
  })
})
