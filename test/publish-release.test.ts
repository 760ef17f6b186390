/**
 * scripts/publish-release.sh, run as the release workflow's publish job runs it: in a clone of a
 * real git repository whose `origin` is a local bare repository, with `gh` replaced by a small
 * stand-in that keeps the releases it has made in a file (there is no GitHub here). The pre-receive
 * hook of the bare repository makes a push fail on demand, as a failed tag move would.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url).pathname
const script = join(root, 'scripts/publish-release.sh')
const provenance = join(root, 'scripts/release-provenance.sh')

const GH_STANDIN = `#!/usr/bin/env bash
# gh release view|create TAG …: releases are lines "TAG flags…" in $GH_STATE.
# gh run list --workflow ci.yml --commit SHA --status success …: prints how many SHAs in $GH_PASSED match.
set -euo pipefail
case "$1 $2" in
  'release view') grep -q "^$3 " "$GH_STATE" 2>/dev/null || { echo "release not found" >&2; exit 1; } ;;
  'release create')
    if grep -q "^$3 " "$GH_STATE" 2>/dev/null; then echo "a release with the same tag name already exists: $3" >&2; exit 1; fi
    shift 2; echo "$*" >> "$GH_STATE" ;;
  'run list')
    [ "$3 $4 $7 $8" = "--workflow ci.yml --status success" ] || { echo "unexpected gh $*" >&2; exit 2; }
    grep -c "^$6$" "$GH_PASSED" || true ;;
  *) echo "unexpected gh $*" >&2; exit 2 ;;
esac
`

interface Scratch {
  dir: string
  origin: string
  clone: string
  bin: string
  ghState: string
  rejectFlag: string
}

const scratches: string[] = []
afterEach(() => {
  for (const dir of scratches.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim()
}

/** A repository with tags v1.0.0 and v1.1.0 on two commits, v1 on v1.0.0, cloned with every tag. */
function scratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'publish-release-'))
  scratches.push(dir)
  const origin = join(dir, 'origin.git')
  const work = join(dir, 'work')
  const clone = join(dir, 'clone')
  const bin = join(dir, 'bin')
  const rejectFlag = join(dir, 'reject-pushes')
  git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', origin)
  writeFileSync(join(origin, 'hooks/pre-receive'), `#!/bin/sh\nif [ -e '${rejectFlag}' ]; then echo "push refused" >&2; exit 1; fi\n`)
  chmodSync(join(origin, 'hooks/pre-receive'), 0o755)
  git(dir, 'init', '--quiet', '--initial-branch=main', work)
  for (const [n, tag] of [
    [1, 'v1.0.0'],
    [2, 'v1.1.0']
  ] as const) {
    writeFileSync(join(work, 'file'), `${n}\n`)
    git(work, 'add', 'file')
    git(work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', `c${n}`)
    git(work, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'tag', '-a', '-m', tag, tag)
  }
  git(work, 'tag', 'v1', 'v1.0.0^{commit}')
  git(work, 'push', '--quiet', origin, 'HEAD:refs/heads/main', '--tags')
  git(dir, 'clone', '--quiet', origin, clone)
  execFileSync('mkdir', ['-p', bin])
  writeFileSync(join(bin, 'gh'), GH_STANDIN)
  chmodSync(join(bin, 'gh'), 0o755)
  const notes = join(dir, 'notes.md')
  writeFileSync(notes, '- Something.\n')
  return { dir, origin, clone, bin, ghState: join(dir, 'gh-releases'), rejectFlag }
}

function publish(
  s: Scratch,
  env: { TAG: string; MAJOR?: string; PRERELEASE?: string; GH_PASSED?: string },
  path = script
): { status: number; output: string } {
  const run = spawnSync('bash', [path], {
    cwd: s.clone,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${s.bin}:${process.env['PATH'] ?? ''}`,
      GH_STATE: s.ghState,
      NOTES: join(s.dir, 'notes.md'),
      MAJOR: 'v1',
      PRERELEASE: 'false',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      ...env
    }
  })
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` }
}

const releases = (s: Scratch): string[] => (existsSync(s.ghState) ? readFileSync(s.ghState, 'utf8').trim().split('\n') : [])
const originTag = (s: Scratch, tag: string): string => git(s.origin, 'rev-parse', `${tag}^{commit}`)

describe('scripts/publish-release.sh', () => {
  it('creates the release and moves the major tag to it', () => {
    const s = scratch()
    const run = publish(s, { TAG: 'v1.1.0' })
    expect(run.output).toContain('v1 now points at v1.1.0')
    expect(run.status).toBe(0)
    expect(releases(s)).toEqual([`v1.1.0 --verify-tag --title v1.1.0 --notes-file ${join(s.dir, 'notes.md')}`])
    expect(originTag(s, 'v1')).toBe(originTag(s, 'v1.1.0'))
  })

  it('finishes a release whose tag move failed when re-run: the release is kept, the tag moves', () => {
    const s = scratch()
    writeFileSync(s.rejectFlag, '')
    const first = publish(s, { TAG: 'v1.1.0' })
    expect(first.status).not.toBe(0)
    expect(first.output).toContain('push refused')
    expect(releases(s)).toHaveLength(1)
    expect(originTag(s, 'v1')).toBe(originTag(s, 'v1.0.0'))

    rmSync(s.rejectFlag)
    const rerun = publish(s, { TAG: 'v1.1.0' })
    expect(rerun.output).toContain('The release v1.1.0 exists already (a re-run)')
    expect(rerun.status).toBe(0)
    expect(releases(s)).toHaveLength(1)
    expect(originTag(s, 'v1')).toBe(originTag(s, 'v1.1.0'))

    const again = publish(s, { TAG: 'v1.1.0' })
    expect(again.output).toContain('v1 already points at v1.1.0')
    expect(again.status).toBe(0)
  })

  it('leaves the major tag on a newer release', () => {
    const s = scratch()
    const run = publish(s, { TAG: 'v1.0.0' })
    expect(run.output).toContain('::notice::v1 stays on v1.1.0, which is newer than v1.0.0')
    expect(run.status).toBe(0)
    expect(originTag(s, 'v1')).toBe(originTag(s, 'v1.0.0'))
  })

  it('publishes a pre-release as one and never moves the major tag for it', () => {
    const s = scratch()
    git(s.clone, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'tag', '-a', '-m', 'rc', 'v1.2.0-rc.1', 'v1.1.0^{commit}')
    const run = publish(s, { TAG: 'v1.2.0-rc.1', PRERELEASE: 'true' })
    expect(run.output).toContain('v1.2.0-rc.1 is a pre-release: v1 stays where it is.')
    expect(run.status).toBe(0)
    expect(releases(s)[0]).toMatch(/^v1\.2\.0-rc\.1 .*--prerelease$/)
    expect(originTag(s, 'v1')).toBe(originTag(s, 'v1.0.0'))
  })
})

describe('scripts/release-provenance.sh', () => {
  const passed = (s: Scratch, ...commits: string[]): string => {
    const file = join(s.dir, 'ci-passed')
    writeFileSync(file, commits.map(commit => `${commit}\n`).join(''))
    return file
  }

  it('accepts a tag on main whose CI passed', () => {
    const s = scratch()
    const run = publish(s, { TAG: 'v1.1.0', GH_PASSED: passed(s, originTag(s, 'v1.1.0')) }, provenance)
    expect(run.output).toContain('v1.1.0 (')
    expect(run.output).toContain('is on main, and CI passed on it.')
    expect(run.status).toBe(0)
  })

  it('refuses a tag whose commit has no successful CI run', () => {
    const s = scratch()
    const run = publish(s, { TAG: 'v1.1.0', GH_PASSED: passed(s, originTag(s, 'v1.0.0')) }, provenance)
    expect(run.output).toMatch(/::error::CI \(ci\.yml\) has no successful run for [0-9a-f]{40}/)
    expect(run.status).toBe(1)
  })

  it('refuses a tag on a commit that is not on main', () => {
    const s = scratch()
    const git_ = (...args: string[]): string => git(s.clone, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args)
    git_('checkout', '--quiet', '-b', 'side')
    writeFileSync(join(s.clone, 'file'), 'side\n')
    git_('commit', '--quiet', '-am', 'side')
    git_('tag', '-a', '-m', 'v1.2.0', 'v1.2.0')
    const run = publish(s, { TAG: 'v1.2.0', GH_PASSED: passed(s, git_('rev-parse', 'HEAD')) }, provenance)
    expect(run.output).toMatch(/::error::v1\.2\.0 points at [0-9a-f]{40}, which is not on main/)
    expect(run.status).toBe(1)
  })
})
