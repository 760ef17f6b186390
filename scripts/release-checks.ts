/**
 * The checks a release runs before it publishes anything, in one place so that the release
 * workflow, the check-dist job and the tests run the same code:
 *
 *   tsx scripts/release-checks.ts dist [--out <dir>] [--stats <dir>]
 *     Builds both bundles afresh into <dir> (a temporary folder unless given), fails when they
 *     differ from the committed dist/, and when dist/licenses.txt misses a bundled package.
 *     Webpack's stats (which name the bundled packages) go to --stats: main.json, restore.json.
 *   tsx scripts/release-checks.ts version <vX.Y.Z[-pre]> [--notes <file>] [--root <dir>]
 *     Fails unless the tag is package.json's version (and package-lock.json's) and CHANGELOG.md has
 *     a non-empty section for it (a pre-release such as v1.1.0-rc.1 may use the Unreleased section);
 *     writes that section to <file> as the release notes and prints `version=…`, `major=…` and
 *     `prerelease=true|false` (also appended to $GITHUB_OUTPUT when set).
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

export const ROOT = new URL('..', import.meta.url).pathname

/** The two bundles: entry point → folder under dist/. Must match `npm run build`. */
export const BUNDLES = [
  { entry: 'src/backup/index.ts', dir: '' },
  { entry: 'src/restore/index.ts', dir: 'restore' }
] as const

export function filesIn(directory: string, prefix = ''): string[] {
  return readdirSync(join(directory, prefix), { withFileTypes: true })
    .flatMap(entry => (entry.isDirectory() ? filesIn(directory, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort()
}

/** Webpack's stats name every bundled module by path; the package is the folder after the last node_modules/. */
export function packagesInStats(statsJson: string): string[] {
  const names = new Set<string>()
  for (const [, name] of statsJson.matchAll(/node_modules\/((?:@[\w.-]+\/)?[\w.-]+)\//g)) if (name) names.add(name)
  return [...names].sort()
}

export interface FreshBuild {
  directory: string
  /** Bundle folder ('' or 'restore') → the packages webpack put in it. */
  packages: Map<string, string[]>
}

/** Builds both bundles as `npm run build` does, plus webpack's stats (kept outside the bundle folders). */
export function buildFresh(out: string, root = ROOT, statsDir = mkdtempSync(join(tmpdir(), 'ncc-stats-'))): FreshBuild {
  const ncc = join(root, 'node_modules/@vercel/ncc/dist/ncc/cli.js')
  mkdirSync(statsDir, { recursive: true })
  const packages = new Map<string, string[]>()
  for (const { entry, dir } of BUNDLES) {
    const stats = join(statsDir, `${dir || 'main'}.json`)
    execFileSync(
      process.execPath,
      [ncc, 'build', entry, '-o', join(out, dir), '--minify', '--license', 'licenses.txt', '--stats-out', stats, '-q'],
      {
        cwd: root,
        stdio: 'pipe'
      }
    )
    packages.set(dir, packagesInStats(readFileSync(stats, 'utf8')))
  }
  return { directory: out, packages }
}

/** What differs between two folders, as "dist/<file> …" lines; empty when they are identical. */
export function differences(expected: string, actual: string, label = 'dist'): string[] {
  const want = filesIn(expected)
  const have = existsSync(actual) ? filesIn(actual) : []
  const problems = [
    ...want.filter(file => !have.includes(file)).map(file => `${label}/${file} is missing`),
    ...have.filter(file => !want.includes(file)).map(file => `${label}/${file} is not made by the build`)
  ]
  for (const file of want.filter(name => have.includes(name))) {
    if (!readFileSync(join(expected, file)).equals(readFileSync(join(actual, file))))
      problems.push(`${label}/${file} differs from a fresh build`)
  }
  return problems
}

/**
 * ncc's licences file lists each package as its name on one line and its licence on the next,
 * followed by the licence text. A package is covered when such a pair names it.
 */
export function licensedPackages(licenses: string): string[] {
  const lines = licenses.split('\n')
  const names: string[] = []
  for (let i = 0; i + 1 < lines.length; i++) {
    const name = lines[i] ?? ''
    const startsEntry = i === 0 || lines[i - 1] === ''
    if (startsEntry && /^(@[\w.-]+\/)?[\w.-]+$/.test(name) && /^[\w.() -]+$/.test(lines[i + 1] ?? '')) names.push(name)
  }
  return names
}

export function unlicensedPackages(licenses: string, bundled: string[]): string[] {
  const listed = new Set(licensedPackages(licenses))
  return bundled.filter(name => !listed.has(name))
}

/** Everything wrong with the committed dist/ compared with a fresh build in `out`. */
export function distProblems(out: string, root = ROOT, statsDir?: string): string[] {
  const build = buildFresh(out, root, statsDir)
  const problems = differences(out, join(root, 'dist'))
  for (const [dir, packages] of build.packages) {
    const file = join(root, 'dist', dir, 'licenses.txt')
    const label = `dist/${dir ? `${dir}/` : ''}licenses.txt`
    if (!existsSync(file)) continue // reported as missing above
    for (const name of unlicensedPackages(readFileSync(file, 'utf8'), packages))
      problems.push(`${label} does not cover the bundled package ${name}`)
  }
  return problems
}

export interface ReleaseVersion {
  version: string
  /** The major tag to move, e.g. v1. */
  major: string
  /** v1.1.0-rc.1: published as a pre-release, and the major tag stays where it is. */
  prerelease: boolean
  notes: string
}

/** The body of CHANGELOG.md's `## [1.2.3]` (or `## 1.2.3`) section, without its heading. */
export function changelogSection(changelog: string, version: string): string | undefined {
  const escaped = version.replaceAll('.', '\\.')
  const heading = new RegExp(`^## \\[?v?${escaped}\\]?(?:[ \\t].*)?$`, 'm')
  const match = heading.exec(changelog)
  if (!match) return undefined
  const rest = changelog.slice(match.index + match[0].length)
  const next = /^## /m.exec(rest)
  return (next ? rest.slice(0, next.index) : rest).replace(/^\n+|\s+$/g, '')
}

export interface VersionSources {
  packageJson: string
  packageLock: string
  changelog: string
}

export function checkVersion(
  tag: string,
  sources: VersionSources
): { ok: true; release: ReleaseVersion } | { ok: false; problems: string[] } {
  const problems: string[] = []
  const match = /^v(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/.exec(tag)
  if (!match)
    return { ok: false, problems: [`${JSON.stringify(tag)} is not a release tag of the form vX.Y.Z (or vX.Y.Z-rc.N for a pre-release)`] }
  const prerelease = match[4] !== undefined
  const version = tag.slice(1)
  const packageVersion = (JSON.parse(sources.packageJson) as { version?: string }).version
  const lockVersion = (JSON.parse(sources.packageLock) as { version?: string }).version
  if (packageVersion !== version) problems.push(`package.json says version ${String(packageVersion)}, the tag says ${version}`)
  if (lockVersion !== packageVersion)
    problems.push(`package-lock.json says version ${String(lockVersion)}, package.json ${String(packageVersion)}: run npm install`)
  const notes = changelogSection(sources.changelog, version) ?? (prerelease ? changelogSection(sources.changelog, 'Unreleased') : undefined)
  if (notes === undefined)
    problems.push(`CHANGELOG.md has no "## [${version}]" section${prerelease ? ' and no "## Unreleased" section' : ''}`)
  else if (notes === '') problems.push(`CHANGELOG.md's section for ${version} is empty`)
  if (problems.length > 0) return { ok: false, problems }
  return { ok: true, release: { version, major: `v${match[1]!}`, prerelease, notes: notes! } }
}

function fail(problems: string[]): number {
  for (const problem of problems) console.log(`::error::${problem.replace(/[\r\n]+/g, ' ')}`)
  return 1
}

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, stats: { type: 'string' }, notes: { type: 'string' }, root: { type: 'string' } }
  })
  const root = values.root === undefined ? ROOT : resolve(values.root)
  const [command, tag] = positionals
  if (command === 'dist') {
    const out = values.out === undefined ? mkdtempSync(join(tmpdir(), 'expected-dist-')) : resolve(values.out)
    mkdirSync(out, { recursive: true })
    const problems = distProblems(out, root, values.stats === undefined ? undefined : resolve(values.stats))
    if (problems.length > 0) {
      console.log(`The expected dist/ is in ${out}.`)
      return fail([...problems, 'dist/ is not what src/ builds to: run npm run build and commit dist/'])
    }
    console.log(`dist/ matches a fresh build, and its licences cover every bundled package.`)
    return 0
  }
  if (command === 'version' && tag !== undefined) {
    const read = (file: string): string => readFileSync(join(root, file), 'utf8')
    const checked = checkVersion(tag, {
      packageJson: read('package.json'),
      packageLock: read('package-lock.json'),
      changelog: read('CHANGELOG.md')
    })
    if (!checked.ok) return fail(checked.problems)
    if (values.notes !== undefined) writeFileSync(values.notes, `${checked.release.notes}\n`)
    const { version, major, prerelease } = checked.release
    const outputs = `version=${version}\nmajor=${major}\nprerelease=${prerelease}\n`
    process.stdout.write(outputs)
    const githubOutput = process.env['GITHUB_OUTPUT']
    if (githubOutput) appendFileSync(githubOutput, outputs) // the step's outputs in a workflow
    return 0
  }
  console.error('usage: release-checks.ts dist [--out <dir>] [--stats <dir>] | version <vX.Y.Z[-pre]> [--notes <file>] [--root <dir>]')
  return 2
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  process.exitCode = main(process.argv.slice(2))
}
