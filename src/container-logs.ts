/** The CockroachDB container's last log lines, shown when the cluster never answered or the job failed. */
import * as core from '@actions/core'
import * as exec from '@actions/exec'
import { errorMessage } from './errors.js'

const LOG_LINES = 50

export async function showContainerLogs(container: string): Promise<void> {
  await core.group(`Last ${LOG_LINES} log lines of container ${container}`, async () => {
    try {
      const code = await exec.exec('docker', ['logs', '--tail', String(LOG_LINES), container], { ignoreReturnCode: true })
      if (code !== 0) core.info(`docker logs exited with ${code}: is ${container} the container's name or id?`)
    } catch (error) {
      // Diagnostics only: the step already fails for the reason that brought us here.
      core.info(`Could not run docker logs: ${errorMessage(error)}`)
    }
  })
}
