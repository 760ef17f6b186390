/**
 * The release's version checks (scripts/release-checks.ts version), run as the release workflow
 * runs them: on this repository's own files and on copies with each thing a release can get wrong.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { changelogSection, checkVersion } from '../scripts/release-checks.js'

const root = new URL('..', import.meta.url).pathname
const tsx = join(root, 'node_modules/.bin/tsx')
const read = (file: string): string => readFileSync(join(root, file), 'utf8')
const version = (JSON.parse(read('package.json')) as { version: string }).version

const CHANGELOG = `# Changelog

## Unreleased

- Something not yet released.

## [1.2.0] - 2026-12-01

### Added

- \`download-path\`.

## [1.1.0] - 2026-11-01

- Older.
`

function repoWith(files: { version: string; lockVersion?: string; changelog: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'release-check-'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', version: files.version }))
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'x', version: files.lockVersion ?? files.version, lockfileVersion: 3 })
  )
  writeFileSync(join(dir, 'CHANGELOG.md'), files.changelog)
  return dir
}

const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

function runCheck(tag: string, dir: string): { status: number; stdout: string; notes: string; githubOutput: string } {
  made.push(dir)
  const notesFile = join(dir, 'notes.md')
  const outputFile = join(dir, 'github-output')
  writeFileSync(outputFile, '')
  try {
    const stdout = execFileSync(tsx, ['scripts/release-checks.ts', 'version', tag, '--root', dir, '--notes', notesFile], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, GITHUB_OUTPUT: outputFile }
    })
    return { status: 0, stdout, notes: readFileSync(notesFile, 'utf8'), githubOutput: readFileSync(outputFile, 'utf8') }
  } catch (error) {
    const failed = error as { status: number; stdout: string }
    return { status: failed.status, stdout: failed.stdout, notes: '', githubOutput: readFileSync(outputFile, 'utf8') }
  }
}

describe('release-checks.ts version', () => {
  it('accepts a tag that is the package version with a CHANGELOG section, and writes that section as the notes', () => {
    const run = runCheck('v1.2.0', repoWith({ version: '1.2.0', changelog: CHANGELOG }))
    expect(run.stdout).toBe('version=1.2.0\nmajor=v1\nprerelease=false\n')
    expect(run.githubOutput).toBe('version=1.2.0\nmajor=v1\nprerelease=false\n') // steps.version.outputs.* in release.yml
    expect(run.status).toBe(0)
    expect(run.notes).toBe('### Added\n\n- `download-path`.\n')
  })

  it.each([
    [
      'a tag that is not the package version',
      'v1.2.1',
      { version: '1.2.0', changelog: CHANGELOG },
      /package\.json says version 1\.2\.0, the tag says 1\.2\.1/
    ],
    [
      'a lock file left behind',
      'v1.2.0',
      { version: '1.2.0', lockVersion: '1.1.0', changelog: CHANGELOG },
      /package-lock\.json says version 1\.1\.0/
    ],
    [
      'a version without a CHANGELOG section',
      'v1.3.0',
      { version: '1.3.0', changelog: CHANGELOG },
      /CHANGELOG\.md has no "## \[1\.3\.0\]" section/
    ],
    [
      'an empty CHANGELOG section',
      'v1.3.0',
      { version: '1.3.0', changelog: '## [1.3.0]\n\n## [1.2.0]\n\n- x\n' },
      /CHANGELOG\.md's section for 1\.3\.0 is empty/
    ],
    ['a tag that is not vX.Y.Z', 'v1.2', { version: '1.2.0', changelog: CHANGELOG }, /"v1\.2" is not a release tag of the form vX\.Y\.Z/],
    [
      'a pre-release tag that is not the package version',
      'v1.3.0-rc.1',
      { version: '1.3.0', changelog: CHANGELOG },
      /package\.json says version 1\.3\.0, the tag says 1\.3\.0-rc\.1/
    ],
    [
      'a pre-release with neither its own section nor an Unreleased one',
      'v1.3.0-rc.1',
      { version: '1.3.0-rc.1', changelog: '## [1.2.0]\n\n- x\n' },
      /CHANGELOG\.md has no "## \[1\.3\.0-rc\.1\]" section and no "## Unreleased" section/
    ]
  ])('refuses %s, with an ::error:: saying what is wrong', (_name, tag, files, expected) => {
    const run = runCheck(tag, repoWith(files))
    expect(run.status).toBe(1)
    expect(run.githubOutput).toBe('')
    expect(run.stdout).toMatch(new RegExp(`^::error::${expected.source}`, 'm'))
  })

  it("agrees with this repository's own package.json and package-lock.json", () => {
    const checked = checkVersion(`v${version}`, {
      packageJson: read('package.json'),
      packageLock: read('package-lock.json'),
      changelog: `## [${version}]\n\n- x\n`
    })
    expect(checked).toEqual({ ok: true, release: { version, major: `v${version.split('.')[0]!}`, prerelease: false, notes: '- x' } })
  })

  it('accepts a pre-release tag, with the Unreleased section as its notes when it has none of its own', () => {
    const run = runCheck('v1.3.0-rc.1', repoWith({ version: '1.3.0-rc.1', changelog: CHANGELOG }))
    expect(run.stdout).toBe('version=1.3.0-rc.1\nmajor=v1\nprerelease=true\n')
    expect(run.status).toBe(0)
    expect(run.notes).toBe('- Something not yet released.\n')
    const own = runCheck(
      'v1.3.0-rc.1',
      repoWith({ version: '1.3.0-rc.1', changelog: CHANGELOG.replace('## Unreleased', '## [1.3.0-rc.1]\n\n- rc\n\n## Unreleased') })
    )
    expect(own.notes).toBe('- rc\n')
  })

  it('finds the section whether or not the heading is bracketed or dated, and not a longer version', () => {
    expect(changelogSection('## 2.0.0\n\n- a\n\n## 1.0.0\n- b\n', '2.0.0')).toBe('- a')
    expect(changelogSection('## [2.0.10] - 2027-01-01\n- c\n## [2.0.1]\n- d\n', '2.0.1')).toBe('- d')
  })

  it('the CHANGELOG has an Unreleased section or one for the current version', () => {
    const changelog = read('CHANGELOG.md')
    expect(/^## Unreleased$/m.test(changelog) || changelogSection(changelog, version) !== undefined).toBe(true)
  })
})
