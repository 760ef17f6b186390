/** The CockroachDB container's last log lines, shown when the cluster never answered or the job failed. */
import * as exec from '@actions/exec'
import { errorMessage } from '../base/errors.js'
import * as log from '../base/log.js'

const LOG_LINES = 50

export async function showContainerLogs(container: string): Promise<void> {
  await log.group(`Last ${LOG_LINES} log lines of container ${container}`, async () => {
    try {
      // The container writes what it likes (including `::` lines): captured, then printed inert.
      let output = ''
      const append = (data: Buffer): void => {
        output += data.toString('utf8')
      }
      const code = await exec.exec('docker', ['logs', '--tail', String(LOG_LINES), container], {
        ignoreReturnCode: true,
        silent: true,
        listeners: { stdout: append, stderr: append }
      })
      if (output !== '') log.info(output.replace(/\r?\n$/, ''))
      if (code !== 0) log.info(`docker logs exited with ${code}: is ${container} the container's name or id?`)
    } catch (error) {
      // Diagnostics only: the step already fails for the reason that brought us here.
      log.info(`Could not run docker logs: ${errorMessage(error)}`)
    }
  })
}
