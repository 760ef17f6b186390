// The @actions/exec contender of bench/action-cost.ts: the same psql script, started the way an
// action that shells out to psql would start it.
import * as exec from '@actions/exec'

const [url, ...statements] = process.argv.slice(2)
const args = [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...statements.flatMap(statement => ['-c', statement])]
process.exitCode = await exec.exec('psql', args, { silent: true })
