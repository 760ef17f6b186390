/** dist/ is what users run: it must be exactly what the build makes from src/. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url).pathname

describe('dist/', () => {
  const out = mkdtempSync(join(tmpdir(), 'dist-check-'))
  afterAll(() => rmSync(out, { recursive: true, force: true }))

  it('matches a fresh build of src/', () => {
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js'), 'build', 'src/index.ts', '-o', out, '--license', 'licenses.txt', '-q'],
      { cwd: root, stdio: 'pipe' }
    )
    const committed = readdirSync(join(root, 'dist')).sort()
    expect(readdirSync(out).sort()).toEqual(committed)
    for (const file of committed) {
      const fresh = readFileSync(join(out, file), 'utf8')
      const current = readFileSync(join(root, 'dist', file), 'utf8')
      // A plain equality keeps a 1 MB diff out of the report; the message says what to do.
      expect(fresh === current, `dist/${file} differs from a fresh build: run npm run build and commit dist/`).toBe(true)
    }
  }, 120_000)
})
