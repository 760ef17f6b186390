/** The emulator's job lifecycle (SHOW JOB, pause, cancel, failure), through the real `pg` driver. */
import { describe, expect, it } from 'vitest'
import { COLLECTION, emulator, connect, failure, pollJob, detachedBackup, paths } from '../support/emulator-client.js'

describe('jobs', () => {
  it('shows SHOW JOB with its column set and answers SELECT … FROM [SHOW JOB n]', async () => {
    const client = await connect(await emulator())
    const { jobId } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    const job = await client.query(`SHOW JOB ${jobId}`)
    expect(job.fields.map(f => f.name)).toEqual([
      'job_id',
      'job_type',
      'description',
      'statement',
      'user_name',
      'status',
      'running_status',
      'created',
      'started',
      'finished',
      'modified',
      'fraction_completed',
      'error',
      'coordinator_id',
      'trace_id',
      'last_run',
      'next_run',
      'num_runs',
      'execution_errors'
    ])
    expect(job.rows[0]).toMatchObject({ job_id: jobId, job_type: 'BACKUP', user_name: 'root', status: 'succeeded' })
    const selected = await client.query(`SELECT status, fraction_completed, error FROM [SHOW JOB ${jobId}]`)
    expect(selected.rows).toEqual([{ status: 'succeeded', fraction_completed: '1', error: '' }])
    const unknown = await failure(client.query(`SELECT nope FROM [SHOW JOB ${jobId}]`))
    expect([unknown.code, unknown.message]).toEqual(['42703', 'column "nope" does not exist'])
  })

  it('lists the columns each version shows in SHOW JOB and [SHOW JOBS] (pkg/sql/delegate/show_jobs.go)', async () => {
    const base = ['job_id', 'job_type', 'description', 'statement', 'user_name', 'status', 'running_status', 'created', 'started']
    const rest = ['finished', 'modified', 'fraction_completed', 'error', 'coordinator_id']
    const without = (names: string[], drop: string[]): string[] => names.filter(n => !drop.includes(n))
    for (const [profile, showJob, showJobs] of [
      ['v21.2', [...base, ...rest, 'trace_id'], [...base, ...rest, 'trace_id']],
      ['v24.3', [...base, ...rest, 'trace_id', 'execution_errors'], [...without(base, ['statement']), ...rest]],
      [
        'v25.3',
        [...without(base, ['started']), ...rest, 'trace_id', 'execution_errors'],
        [...without(base, ['statement', 'started']), ...rest]
      ]
    ] as const) {
      const client = await connect(await emulator({ profile }))
      const { jobId } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
      expect(
        (await client.query(`SHOW JOB ${jobId}`)).fields.map(f => f.name),
        profile
      ).toEqual(showJob)
      expect(
        (await client.query('SELECT * FROM [SHOW JOBS]')).fields.map(f => f.name),
        profile
      ).toEqual(showJobs)
      const retries = await failure(client.query(`SELECT num_runs FROM [SHOW JOB ${jobId}]`))
      expect(retries.code, profile).toBe('42703')
    }
  })

  it('fails the next job with the injected error, in the job and in a waiting statement', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    emu.failNextJob({ message: 'simulated: out of disk' })
    const { history } = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    expect(history.at(-1)).toMatchObject({ status: 'failed', error: 'simulated: out of disk' })
    emu.failNextJob({ message: 'simulated: node lost', code: '40001' })
    const error = await failure(client.query(`BACKUP DATABASE bank INTO '${COLLECTION}'`))
    expect([error.code, error.message]).toEqual(['40001', 'simulated: node lost'])
    expect(await paths(client)).toEqual([])
  })

  it('cancels a running job and answers CANCEL JOB as CockroachDB does for other states', async () => {
    const emu = await emulator({ jobDurationMs: 5_000 })
    const client = await connect(emu)
    const { rows } = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    const jobId = rows[0].job_id as string
    const cancel = await client.query({ text: 'CANCEL JOB $1', values: [jobId] })
    expect(cancel.command).toBe('CANCEL')
    expect(emu.cluster.jobs.get(jobId)?.status).toBe('cancel-requested')
    await client.query(`CANCEL JOB ${jobId}`)
    const history = await pollJob(client, jobId)
    expect(history.at(-1)).toMatchObject({ status: 'canceled', error: '' })
    await client.query(`CANCEL JOB ${jobId}`)
    emu.setJobDuration(10)
    const done = await detachedBackup(client, `BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    const finished = await failure(client.query(`CANCEL JOB ${done.jobId}`))
    expect([finished.code, finished.message]).toEqual(['XXUUU', 'job with status succeeded cannot be requested to be canceled'])
    expect((await failure(client.query('CANCEL JOB 123'))).message).toBe('job with ID 123 does not exist')
  })

  it('ends a waiting BACKUP with "job canceled by user" when its job is canceled elsewhere', async () => {
    const emu = await emulator({ jobDurationMs: 5_000 })
    const waiting = (await connect(emu)).query(`BACKUP DATABASE bank INTO '${COLLECTION}'`)
    const other = await connect(emu)
    for (let i = 0; i < 100 && emu.cluster.jobs.size === 0; i++) await new Promise(r => setTimeout(r, 5))
    const [job] = [...emu.cluster.jobs.values()]
    await other.query(`CANCEL JOB ${job?.id}`)
    const error = await failure(waiting)
    expect(error.message).toBe('job canceled by user')
  })

  it('keeps a job running when connections drop, and pauses jobs on request', async () => {
    const emu = await emulator({ jobDurationMs: 150 })
    const client = await connect(emu)
    client.on('error', () => undefined)
    const { rows } = await client.query(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
    emu.pauseJobs()
    emu.dropConnections()
    await new Promise(r => setTimeout(r, 250))
    const jobId = rows[0].job_id as string
    expect(emu.cluster.jobs.get(jobId)?.status).toBe('running')
    emu.resumeJobs()
    const again = await connect(emu)
    expect((await pollJob(again, jobId)).at(-1)?.status).toBe('succeeded')
    expect(await paths(again)).toHaveLength(1)
  })

  it('slows every statement down with setQueryDelay', async () => {
    const emu = await emulator()
    const client = await connect(emu)
    emu.setQueryDelay(150)
    const started = Date.now()
    await client.query('SELECT 1')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('v24.3+ SHOW JOBS truncates created to the second and abbreviates long descriptions (59 chars, " … ", the last 7); SHOW JOB keeps the whole description', async () => {
    const description = `BACKUP DATABASE bank INTO '/2024/05/07-141022.34' IN '${COLLECTION}' WITH OPTIONS (detached)`
    for (const [profile, truncated] of [
      ['v23.2', false],
      ['v24.3', true],
      ['v26.2', true]
    ] as const) {
      const client = await connect(await emulator({ profile, jobDurationMs: 60_000 }))
      const { rows } = await client.query<{ job_id: string }>(`BACKUP DATABASE bank INTO '${COLLECTION}' WITH detached`)
      const listed = await client.query<{ created: string; description: string }>(
        "SELECT created, description FROM [SHOW JOBS] WHERE job_type = 'BACKUP'"
      )
      const shown = await client.query<{ created: string; description: string }>(
        `SELECT created, description FROM [SHOW JOB ${rows[0]?.job_id}]`
      )
      expect(listed.rows[0]?.created, profile).toBe(truncated ? '2024-05-07 14:10:22+00' : '2024-05-07 14:10:22.345+00')
      expect(shown.rows[0]?.created, profile).toBe(listed.rows[0]?.created)
      expect(listed.rows[0]?.description, profile).toBe(truncated ? `${description.slice(0, 59)} … tached)` : description)
      expect(shown.rows[0]?.description, profile).toBe(description)
      // So `created >= <a time later in the same second>` misses the job once created is truncated.
      const since = await client.query("SELECT job_id FROM [SHOW JOBS] WHERE created >= '2024-05-07 14:10:22.300+00'::TIMESTAMPTZ")
      expect(since.rows.length, profile).toBe(truncated ? 0 : 1)
    }
  })
})
