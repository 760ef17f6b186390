/** The patches in patches/ are applied by npm ci, pinned to the versions they were written for, and bundled. */
import { readdirSync, readFileSync } from 'node:fs'
import * as core from '@actions/core'
import { describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')
const packageJson = JSON.parse(read('package.json')) as {
  dependencies: Record<string, string>
  overrides: Record<string, string>
}
const installedVersion = (name: string): string => (JSON.parse(read(`node_modules/${name}/package.json`)) as { version: string }).version

describe.each([
  { name: 'pg-protocol', pinned: () => packageJson.overrides['pg-protocol'], file: 'dist/parser.js', marker: 'binaryColumns' },
  { name: 'pg', pinned: () => packageJson.dependencies.pg, file: 'lib/result.js', marker: '!Buffer.isBuffer(rawValue)' },
  {
    name: '@actions/core',
    pinned: () => packageJson.dependencies['@actions/core'],
    file: 'lib/core.js',
    marker: "yield import(/* webpackIgnore: true */ './oidc-utils.js')"
  }
])('the carried patch to $name', ({ name, pinned, file, marker }) => {
  const version = installedVersion(name)

  it('is pinned to the exact version it was written for', () => {
    expect(pinned()).toBe(version)
    expect(read(`patches/${name.replace('/', '+')}+${version}.patch`)).toContain(marker)
  })

  it('is applied in node_modules', () => {
    expect(read(`node_modules/${name}/${file}`)).toContain(marker)
  })
})

describe('the bundles', () => {
  it.each(['dist/index.js', 'dist/restore/index.js'])('%s carry the binary-field fix and the reuse of large row buffers', bundle => {
    expect(read(bundle)).toContain('binaryColumns')
    expect(read(bundle)).toContain('recycleLargeMessage')
  })

  it.each(['dist/index.js', 'dist/restore/index.js'])('%s leave out the OIDC client, @actions/http-client and undici', bundle => {
    const text = read(bundle)
    expect(text).toContain('./oidc-utils.js') // the import left for run time, which nothing in src/ reaches
    expect(text).not.toContain('ACTIONS_ID_TOKEN_REQUEST_URL')
    expect(text).not.toMatch(/undici/i)
  })

  it('are never asked for an OIDC token: nothing in src/ calls getIDToken, whose client the bundles leave out', () => {
    const sources = readdirSync(new URL('src', root), { recursive: true, encoding: 'utf8' }).filter(file => file.endsWith('.ts'))
    expect(sources.length).toBeGreaterThan(10)
    expect(sources.filter(file => read(`src/${file}`).includes('getIDToken'))).toEqual([])
  })
})

describe('@actions/core with the OIDC client loaded on first use', () => {
  it('still loads it when getIDToken is called', async () => {
    const saved = process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    try {
      // The OIDC client's own error: it was imported and ran.
      await expect(core.getIDToken()).rejects.toThrow(/ACTIONS_ID_TOKEN_REQUEST_URL/)
    } finally {
      if (saved !== undefined) process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved
    }
  })
})
