/**
 * The only way the action prints (eslint forbids core.info/warning/error/debug/notice/setFailed/group
 * and console/process.stdout everywhere else).
 *
 * The runner reads every line of the step's output that starts with `::` (after leading white
 * space) as a workflow command, and the legacy `##[…]` form anywhere in a line. Messages interpolate
 * text the action does not control: server versions, user names, job errors, paths, file names,
 * inputs, container logs. So:
 * - annotations, debug lines and group titles go through @actions/core's command escaping, which
 *   turns CR, LF and % into %0D, %0A and %25: the text stays on its one line as the command's data;
 * - a plain log message with a line that could be read as a command is printed verbatim between
 *   `::stop-commands::<token>` and `::<token>::`, with a random token that does not occur in it, so
 *   the runner shows it but executes nothing in it.
 */
import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'

/** The runner splits output into lines at CR, LF and CRLF (StreamReader.ReadLine). */
const LINE_BREAK = /\r\n|\r|\n/

/**
 * Wider than the runner's own test on purpose (`::` anywhere, not only after leading white space):
 * a false positive costs two invisible lines, a false negative a command run on the cluster's say.
 */
function couldBeCommand(line: string): boolean {
  return line.includes('::') || line.includes('##[')
}

function freshToken(text: string): string {
  for (;;) {
    const token = randomBytes(16).toString('hex')
    if (!text.includes(token)) return token
  }
}

/** `text` as lines the runner will show and never execute. */
export function inert(text: string): string {
  const lines = text.split(LINE_BREAK)
  if (!lines.some(couldBeCommand)) return lines.join('\n')
  const token = freshToken(text)
  return [`::stop-commands::${token}`, ...lines, `::${token}::`].join('\n')
}

export function info(message: string): void {
  core.info(inert(message))
}

/** One annotation line; @actions/core escapes CR/LF/% in the message. */
export function warning(message: string): void {
  core.warning(message)
}

/** One notice annotation; escaped like a warning. */
export function notice(message: string): void {
  core.notice(message)
}

/** Step debug logging is on (the runner sets RUNNER_DEBUG=1 when ACTIONS_STEP_DEBUG is true or a re-run asks for it). */
export function debugEnabled(): boolean {
  return core.isDebug()
}

export function debug(message: string): void {
  core.debug(message)
}

/** The step's failure: exit code 1 and one ::error:: annotation (escaped like every command's data). */
export function fail(message: string): void {
  core.setFailed(message)
}

/** Opens a foldable group (closed by endGroup); the title is a command's data, so @actions/core escapes it. */
export function startGroup(title: string): void {
  core.startGroup(title)
}

export function endGroup(): void {
  core.endGroup()
}

/** A foldable group; the title is a command's data, so @actions/core escapes it. */
export async function group<T>(title: string, work: () => Promise<T>): Promise<T> {
  return core.group(title, work)
}
