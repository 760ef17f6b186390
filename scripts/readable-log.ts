/**
 * `npm start` shows the step's log as a person reads it on GitHub, not as the runner receives it:
 * workflow commands (`::group::`, `::error::`, …) become plain lines with their data unescaped
 * (%0A is a line break again), `::add-mask::` lines are not shown, and text between
 * `::stop-commands::<token>` and `::<token>::` is printed as it is, as the runner shows it.
 */

const LABELS: Record<string, string> = { error: 'Error: ', warning: 'Warning: ', notice: 'Notice: ', debug: 'Debug: ' }

/** The runner's unescaping of a command's data (@actions/core escapeData). */
function unescapeData(data: string): string {
  return data.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%')
}

export class ReadableLog {
  private partial = ''
  private stopToken: string | undefined

  /** The readable form of the next chunk of the step's output (complete lines only; the rest waits for `end`). */
  write(chunk: string): string {
    const lines = (this.partial + chunk).split('\n')
    this.partial = lines.pop() ?? ''
    return lines
      .map(line => this.line(line))
      .filter(line => line !== undefined)
      .join('')
  }

  end(): string {
    const rest = this.partial === '' ? undefined : this.line(this.partial)
    this.partial = ''
    return rest ?? ''
  }

  private line(line: string): string | undefined {
    if (this.stopToken !== undefined) {
      if (line.trim() === `::${this.stopToken}::`) {
        this.stopToken = undefined
        return undefined
      }
      return `${line}\n`
    }
    const command = /^\s*::([a-z-]+)( [^:]*)?::(.*)$/.exec(line)
    if (!command) return `${line}\n`
    const [, name = '', , data = ''] = command
    if (name === 'stop-commands') {
      this.stopToken = data
      return undefined
    }
    if (name === 'add-mask' || name === 'endgroup') return undefined
    if (name === 'group') return `▸ ${unescapeData(data)}\n`
    const label = LABELS[name]
    return label === undefined ? `${line}\n` : `${label}${unescapeData(data)}\n`
  }
}
