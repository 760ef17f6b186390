/**
 * A log message as one line. Outside text in a message (a database name, a path, a server's
 * error) could hold a line break, and a line that starts with `::` is a workflow command to the
 * runner; so line breaks are shown as `\n` instead of made.
 */
export function logLine(message: string): string {
  return message.replace(/\r\n|\r|\n/g, '\\n')
}
