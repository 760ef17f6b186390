/** dist/ is what users run: both bundles must be exactly what the build makes from src/. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = new URL('..', import.meta.url).pathname
const ncc = join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')

function files(directory: string, prefix = ''): string[] {
  return readdirSync(join(directory, prefix), { withFileTypes: true })
    .flatMap(entry => (entry.isDirectory() ? files(directory, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort()
}

describe('dist/', () => {
  const out = mkdtempSync(join(tmpdir(), 'dist-check-'))
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it('matches a fresh build of both entry points', () => {
    for (const [entry, dir] of [
      ['src/index.ts', out],
      ['src/restore-index.ts', join(out, 'restore')]
    ] as const) {
      execFileSync(process.execPath, [ncc, 'build', entry, '-o', dir, '--minify', '--license', 'licenses.txt', '-q'], {
        cwd: root,
        stdio: 'pipe'
      })
    }
    const committed = files(join(root, 'dist'))
    expect(files(out)).toEqual(committed)
    for (const file of committed) {
      const fresh = readFileSync(join(out, file), 'utf8')
      const current = readFileSync(join(root, 'dist', file), 'utf8')
      // A plain equality keeps a 1 MB diff out of the report; the message says what to do.
      expect(fresh === current, `dist/${file} differs from a fresh build: run npm run build and commit dist/`).toBe(true)
    }
  }, 180_000)

  it('is what the two action.yml files run', () => {
    const main = (parse(readFileSync(join(root, 'action.yml'), 'utf8')) as { runs: { main: string } }).runs.main
    const restore = (parse(readFileSync(join(root, 'restore/action.yml'), 'utf8')) as { runs: { main: string } }).runs.main
    expect(join(root, main)).toBe(join(root, 'dist/index.js'))
    expect(join(root, 'restore', restore)).toBe(join(root, 'dist/restore/index.js'))
  })
})
