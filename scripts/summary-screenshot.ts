/**
 * `npm run screenshot`: docs/job-summary.png, the job summary of a real run of the bundle
 * (dist/index.js, with verify-restore) against the emulator, rendered by headless Chromium in a
 * page styled like GitHub's job summary. Needs dist/ built and a Chromium (CHROMIUM, else
 * /usr/bin/chromium).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmulator } from '../test/emulator/index.js'
import { ROOT, runBundledAction } from '../test/support/run-action.js'

const OUTPUT = join(ROOT, 'docs/job-summary.png')

/** Enough of GitHub's markdown styling to read like a job summary: its fonts, table borders, code spans. */
const CSS = `
body { margin: 0; background: #f6f8fa; font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
.box { margin: 24px; background: #fff; border: 1px solid #d1d9e0; border-radius: 6px; }
.title { padding: 12px 16px; border-bottom: 1px solid #d1d9e0; font-weight: 600; }
.markdown-body { padding: 8px 24px 16px; }
h2 { font-size: 1.5em; font-weight: 600; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; margin: 16px 0; }
h3 { font-size: 1.25em; font-weight: 600; margin: 20px 0 12px; }
table { border-collapse: collapse; margin: 0 0 16px; display: block; width: max-content; max-width: 100%; overflow: auto; }
th, td { padding: 6px 13px; border: 1px solid #d1d9e0; }
th { font-weight: 600; }
tr:nth-child(2n) { background: #f6f8fa; }
code { padding: .2em .4em; font: 85% ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, monospace; background: #eff1f3; border-radius: 6px; white-space: break-spaces; }
pre { padding: 16px; overflow: auto; background: #f6f8fa; border-radius: 6px; }
pre code { padding: 0; background: none; font-size: 85%; }
`

async function summaryOfARun(): Promise<string> {
  const emulator = await startEmulator({ profile: 'v25.2', jobDurationMs: 200 })
  try {
    emulator.createDatabase('bank', { accounts: { rows: 1000, bytes: 64_000 }, transfers: { rows: 250, bytes: 18_000 } })
    const run = await runBundledAction({
      inputs: { database: 'bank', 'verify-restore': 'true', 'connection-string': emulator.connectionString() }
    })
    if (run.exitCode !== 0) throw new Error(`The action failed:\n${run.stdout}`)
    return run.summary
  } finally {
    await emulator.close()
  }
}

const summary = await summaryOfARun()
const dir = mkdtempSync(join(tmpdir(), 'summary-screenshot-'))
try {
  const page = join(dir, 'summary.html')
  writeFileSync(
    page,
    `<!doctype html><html><head><meta charset="utf-8"><style>${CSS}</style></head><body><div class="box"><div class="title">backup summary</div><div class="markdown-body">${summary}</div></div></body></html>`
  )
  const chromium = process.env['CHROMIUM'] ?? '/usr/bin/chromium'
  const result = spawnSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${join(dir, 'profile')}`,
      `--screenshot=${OUTPUT}`,
      '--window-size=1000,900',
      `file://${page}`
    ],
    { encoding: 'utf8', timeout: 60_000 }
  )
  if (result.status !== 0) throw new Error(`${chromium} failed (${result.status ?? result.signal}): ${result.stderr}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
