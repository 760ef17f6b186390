// The "@actions/exec calling psql" contender of bench/overhead.ts: the bare psql script, started the
// way a JavaScript action that shells out to psql would start it.
//   node bench/psql-via-exec.mjs <psql> <script.sql> <url> <collection>
import * as exec from '@actions/exec'

const [psql, script, url, collection] = process.argv.slice(2)
await exec.exec(psql, [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', `collection=${collection}`, '-f', script])
