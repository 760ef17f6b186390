/**
 * The folders of src/ and the one way imports run between them: the actions use the step, the step
 * uses storage and the cluster, storage uses the cluster, and everything uses base. An import
 * against that order, between the two actions, or a cycle fails here.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('..', import.meta.url).pathname
const SRC = join(ROOT, 'src')

/** Each folder's level: a file may import only from its own folder or a folder of a lower level. */
const LEVELS: Record<string, number> = { backup: 4, restore: 4, step: 3, storage: 2, cluster: 1, base: 0 }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []
  )
}

/** `src/`-relative path of every file, and the `src/`-relative paths of the files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const path = relative(SRC, file)
    const text = readFileSync(file, 'utf8')
    const specifiers = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/gm)].map(match => match[1]!)
    const local = specifiers.filter(specifier => specifier.startsWith('.'))
    graph.set(
      path,
      local.map(specifier => posix.normalize(posix.join(dirname(path), specifier)).replace(/\.js$/, '.ts'))
    )
  }
  return graph
}

const folderOf = (path: string): string => path.split('/')[0]!

/** Every import that runs against the folder order, as `from -> to`. */
function upwardImports(graph: Map<string, string[]>): string[] {
  const wrong: string[] = []
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const [a, b] = [folderOf(from), folderOf(to)]
      if (a !== b && !((LEVELS[a] ?? -1) > (LEVELS[b] ?? Infinity))) wrong.push(`${from} -> ${to}`)
    }
  }
  return wrong
}

function cycle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>()
  const onPath: string[] = []
  const visit = (file: string): string[] | undefined => {
    if (onPath.includes(file)) return [...onPath.slice(onPath.indexOf(file)), file]
    if (done.has(file)) return undefined
    onPath.push(file)
    for (const next of graph.get(file) ?? []) {
      const found = visit(next)
      if (found) return found
    }
    onPath.pop()
    done.add(file)
    return undefined
  }
  for (const file of graph.keys()) {
    const found = visit(file)
    if (found) return found
  }
  return undefined
}

describe('src/ layout', () => {
  const graph = importGraph()

  it('holds only the named folders, with no loose file beside them', () => {
    const entries = readdirSync(SRC, { withFileTypes: true })
    expect(entries.filter(entry => !entry.isDirectory()).map(entry => entry.name)).toEqual([])
    expect(entries.map(entry => entry.name).sort()).toEqual(Object.keys(LEVELS).sort())
  })

  it('imports only from the same folder or a lower one', () => {
    expect(upwardImports(graph)).toEqual([])
  })

  it('sees an import against the order', () => {
    const bad = new Map([
      ['base/errors.ts', ['step/step.ts']],
      ['backup/run.ts', ['restore/run.ts']],
      ['step/step.ts', ['cluster/connection.ts']]
    ])
    expect(upwardImports(bad)).toEqual(['base/errors.ts -> step/step.ts', 'backup/run.ts -> restore/run.ts'])
  })

  it('resolves every local import to a file in src/', () => {
    const missing = [...graph.values()].flat().filter(target => !graph.has(target))
    expect(missing).toEqual([])
  })

  it('has no import cycle', () => {
    expect(cycle(graph)).toBeUndefined()
  })

  it('lets only cluster/connection.ts import pg', () => {
    const users = sourceFiles(SRC).filter(file => /^import\b[^;]*?\bfrom\s+'pg'/m.test(readFileSync(file, 'utf8')))
    expect(users.map(file => relative(SRC, file))).toEqual(['cluster/connection.ts'])
  })
})
