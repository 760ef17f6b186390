/**
 * dist/ is what users run: both bundles must be exactly what the build makes from src/, and their
 * licences must cover every package bundled into them. The check is the one the release workflow
 * and CI's check-dist job run (scripts/release-checks.ts dist), run here as they run it.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { differences, licensedPackages, packagesInStats, unlicensedPackages } from '../scripts/release-checks.js'

const root = new URL('..', import.meta.url).pathname
const tsx = join(root, 'node_modules/.bin/tsx')

describe('dist/', () => {
  const work = mkdtempSync(join(tmpdir(), 'dist-check-'))
  const out = join(work, 'expected')
  const stats = join(work, 'stats')
  let check = { status: -1, stdout: '' }

  beforeAll(() => {
    try {
      const stdout = execFileSync(tsx, ['scripts/release-checks.ts', 'dist', '--out', out, '--stats', stats], {
        cwd: root,
        encoding: 'utf8'
      })
      check = { status: 0, stdout }
    } catch (error) {
      const failed = error as { status: number; stdout: string }
      check = { status: failed.status, stdout: failed.stdout }
    }
  }, 240_000)
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('matches a fresh build of both entry points, with licences for every bundled package (scripts/release-checks.ts dist)', () => {
    expect(check.stdout).not.toContain('::error::')
    expect(check.status, check.stdout).toBe(0)
    expect(differences(out, join(root, 'dist'))).toEqual([])
  })

  it('reports a changed, a missing and an extra file', () => {
    const tampered = join(work, 'tampered')
    cpSync(join(root, 'dist'), tampered, { recursive: true })
    writeFileSync(join(tampered, 'index.js'), readFileSync(join(tampered, 'index.js'), 'utf8').replace('BACKUP', 'BAKUP'))
    rmSync(join(tampered, 'restore/licenses.txt'))
    writeFileSync(join(tampered, 'stale.js'), '')
    expect(differences(out, tampered)).toEqual([
      'dist/restore/licenses.txt is missing',
      'dist/stale.js is not made by the build',
      'dist/index.js differs from a fresh build'
    ])
  })

  it('knows which packages webpack bundled, and finds each in licenses.txt', () => {
    for (const [bundle, file] of [
      ['main', 'licenses.txt'],
      ['restore', 'restore/licenses.txt']
    ] as const) {
      const bundled = packagesInStats(readFileSync(join(stats, `${bundle}.json`), 'utf8'))
      // The packages the action imports, and what they pull in.
      expect(bundled).toEqual(expect.arrayContaining(['@actions/core', '@actions/exec', 'pg', 'pg-protocol']))
      expect(bundled).not.toContain('vitest')
      expect(bundled).not.toContain('undici') // the OIDC client is left out (patches/README.md)
      expect(unlicensedPackages(readFileSync(join(root, 'dist', file), 'utf8'), bundled)).toEqual([])
    }
  })

  it('notices a package missing from the licences', () => {
    const licenses = readFileSync(join(root, 'dist/licenses.txt'), 'utf8')
    expect(licensedPackages(licenses)).toContain('pg-protocol')
    const withoutPgProtocol = licenses.replace(/(^|\n\n)pg-protocol\n/, '$1')
    expect(unlicensedPackages(withoutPgProtocol, ['pg', 'pg-protocol'])).toEqual(['pg-protocol'])
  })

  it('is what the two action.yml files run', () => {
    const main = (parse(readFileSync(join(root, 'action.yml'), 'utf8')) as { runs: { main: string } }).runs.main
    const restore = (parse(readFileSync(join(root, 'restore/action.yml'), 'utf8')) as { runs: { main: string } }).runs.main
    expect(join(root, main)).toBe(join(root, 'dist/index.js'))
    expect(join(root, 'restore', restore)).toBe(join(root, 'dist/restore/index.js'))
  })
})
