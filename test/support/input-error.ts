/** The one way tests expect bad input to be refused. */
import { InputError } from '../../src/base/errors.js'

/** The InputError `run` throws; any other error is rethrown, and no error at all fails the test. */
export function expectInputError(run: () => unknown, what = 'the input'): InputError {
  try {
    run()
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error(`expected ${what} to be refused with an InputError`)
}
