/**
 * The credentials a URI carries, found without ever echoing it: the user-info password of any URL,
 * and the secret query parameters of CockroachDB's cloud storage URIs. Masking and redaction both
 * read this one list.
 */

/** Query parameters that carry credentials in CockroachDB's cloud storage URIs (and their kin). */
const SECRET_PARAMETER = /(SECRET|TOKEN|PASSWORD|CREDENTIALS|ACCOUNT_KEY|PRIVATE_KEY|^SIG$)/i

/** The user-info password of any URL, raw and %-decoded. */
export function userInfoPassword(url: string): string[] {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? ''
  const at = authority.lastIndexOf('@')
  const userInfo = at === -1 ? '' : authority.slice(0, at)
  const colon = userInfo.indexOf(':')
  const password = colon === -1 ? '' : userInfo.slice(colon + 1)
  if (password === '') return []
  let decoded = password
  try {
    decoded = decodeURIComponent(password)
  } catch {
    // a malformed escape: parsing rejects it later; the raw text is still masked
  }
  return decoded === password ? [password] : [password, decoded]
}

interface UriSecrets {
  redacted: string
  secrets: string[]
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return text // not percent-encoded after all; the raw text is what appears in logs
  }
}

/** Splits credentials out of a storage URI: the user-info password and secret query parameters. */
export function uriSecrets(uri: string): UriSecrets {
  const secrets: string[] = []
  const remember = (value: string): void => {
    if (value === '') return
    secrets.push(value)
    const decoded = safeDecode(value)
    if (decoded !== value) secrets.push(decoded)
  }
  const passwords = userInfoPassword(uri)
  secrets.push(...passwords)
  let redacted = uri
  const raw = passwords[0]
  if (raw !== undefined) {
    const authorityStart = uri.indexOf('://') + 3
    const colon = uri.indexOf(':', authorityStart)
    redacted = `${uri.slice(0, colon + 1)}redacted${uri.slice(colon + 1 + raw.length)}`
  }
  redacted = redacted.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, key: string, value: string) => {
    if (!SECRET_PARAMETER.test(safeDecode(key))) return all
    remember(value)
    return `${sep}${key}=redacted`
  })
  return { redacted, secrets: [...new Set(secrets)] }
}

export function redactCollection(uri: string): string {
  return uriSecrets(uri).redacted
}
