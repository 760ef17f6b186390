/**
 * What the GitHub runner would execute from a step's output, modelled on its ActionCommandManager
 * (actions/runner, src/Runner.Worker/ActionCommandManager.cs and ActionCommand.cs): output is read
 * line by line (CR, LF or CRLF end a line); a line is a command when, after leading white space, it
 * starts with `::name[ properties]::data`; the legacy `##[name …]data` form is found anywhere in a
 * line; after `::stop-commands::<token>` nothing runs until a `::<token>::` line.
 */
export interface WorkflowCommand {
  name: string
  /** The data after the second `::`, decoded from the runner's escaping. */
  data: string
  legacy: boolean
}

function unescapeData(data: string): string {
  return data.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%')
}

function parseLine(line: string): WorkflowCommand | undefined {
  const trimmed = line.trimStart()
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2)
    if (end !== -1) {
      const head = trimmed.slice(2, end)
      const name = head.split(' ')[0] ?? ''
      if (name !== '') return { name, data: unescapeData(trimmed.slice(end + 2)), legacy: false }
    }
  }
  const legacyAt = line.indexOf('##[')
  if (legacyAt !== -1) {
    const close = line.indexOf(']', legacyAt)
    if (close !== -1) {
      const name = line.slice(legacyAt + 3, close).split(' ')[0] ?? ''
      if (name !== '') return { name, data: line.slice(close + 1), legacy: true }
    }
  }
  return undefined
}

/** The commands the runner would run, in order (stop-commands and its resume included). */
export function runnerCommands(output: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = []
  let stopToken: string | undefined
  for (const line of output.split(/\r\n|\r|\n/)) {
    const command = parseLine(line)
    if (command === undefined) continue
    if (stopToken !== undefined) {
      if (command.name === stopToken) {
        stopToken = undefined
        commands.push(command)
      }
      continue
    }
    if (command.name === 'stop-commands') stopToken = command.data
    commands.push(command)
  }
  return commands
}

/** The commands the action itself issues in a run; anything else came from outside text. */
const OWN_COMMANDS = new Set(['add-mask', 'error', 'notice', 'debug', 'group', 'endgroup', 'stop-commands'])

/** Commands the action did not mean to issue (a resume token counts as its own). */
export function foreignCommands(output: string): WorkflowCommand[] {
  const commands = runnerCommands(output)
  const tokens = new Set(commands.filter(c => c.name === 'stop-commands').map(c => c.data))
  return commands.filter(c => c.legacy || !(OWN_COMMANDS.has(c.name) || tokens.has(c.name)))
}
