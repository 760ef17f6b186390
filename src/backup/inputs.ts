/** The backup action's inputs: the shared ones, then what only a backup takes. */
import { resolve } from 'node:path'
import * as core from '@actions/core'
import { parseAsOfSystemTime, type AsOfSystemTime } from '../cluster/as-of-system-time.js'
import type { Collection } from '../cluster/collection.js'
import { requireUserfile } from '../storage/userfile-location.js'
import {
  DEFAULT_AS_OF_SYSTEM_TIME,
  DEFAULT_DOWNLOAD_CONNECTIONS,
  DEFAULT_MAX_CLOCK_OFFSET_SECONDS,
  Inputs,
  MAX_DOWNLOAD_CONNECTIONS
} from '../base/constants.js'
import { InputError } from '../base/errors.js'
import { parseFullEvery, type FullEvery } from './cadence.js'
import { checkDownloadDirectory } from './download-directory.js'
import {
  checkRunnerPath,
  optional,
  optionalText,
  parseBoolean,
  readInput,
  readSharedInputs,
  type Read,
  type SharedInputs
} from '../step/inputs.js'
import * as log from '../base/log.js'

export interface ActionInputs extends SharedInputs {
  asOf: AsOfSystemTime | undefined
  /** The cluster's `--max-offset`: how far a write's timestamp may be ahead of the clock the step reads. */
  maxClockOffsetMs: number
  subdirectory: string | undefined
  incremental: boolean
  /** full-every: a new full backup once the newest is this old, else an incremental onto it. */
  fullEvery: FullEvery | undefined
  revisionHistory: boolean
  /** Where to copy the backup's files, as an absolute path; only for userfile collections. */
  downloadPath: string | undefined
  /** How many files the download reads at once, each over a connection of its own (1: one at a time, on the step's session). */
  downloadConnections: number
  /** How many full backups (with their incrementals) to keep; undefined keeps everything. */
  keepBackups: number | undefined
  /** Restore the new backup into scratch databases and compare row counts. */
  verifyRestore: boolean
}

function parseSubdirectory(value: string): string | undefined {
  const text = optionalText(Inputs.Subdirectory, value)
  if (text === undefined) return undefined
  if (text.toUpperCase() === 'LATEST') {
    throw new InputError(Inputs.Subdirectory, 'to append to the latest backup, set incremental: true instead.')
  }
  return text
}

export function getInputs(readRaw: Read = readInput, mask: (secret: string) => void = core.setSecret): ActionInputs {
  const read = (name: string): string => readRaw(name) ?? ''
  const shared = readSharedInputs(readRaw, mask)
  const subdirectory = parseSubdirectory(read(Inputs.Subdirectory))
  const incremental = parseBoolean(Inputs.Incremental, read(Inputs.Incremental), false)
  return {
    ...shared,
    // Unset means the default; set to '' means "no AS OF SYSTEM TIME" (main warns about it).
    asOf: parseAsOfSystemTime(readRaw(Inputs.AsOfSystemTime) ?? DEFAULT_AS_OF_SYSTEM_TIME),
    maxClockOffsetMs: parseMaxClockOffset(read(Inputs.MaxClockOffset)),
    subdirectory,
    incremental,
    fullEvery: checkFullEvery(parseFullEvery(read(Inputs.FullEvery)), incremental, subdirectory),
    revisionHistory: parseBoolean(Inputs.RevisionHistory, read(Inputs.RevisionHistory), false),
    downloadPath: parseDownloadPath(read(Inputs.DownloadPath), shared.collection),
    downloadConnections: parseDownloadConnections(read(Inputs.DownloadConnections)),
    keepBackups: parseKeepBackups(read(Inputs.KeepBackups), shared.collection),
    verifyRestore: parseBoolean(Inputs.VerifyRestore, read(Inputs.VerifyRestore), false)
  }
}

/** full-every decides the type itself: incremental and subdirectory would decide it too. */
function checkFullEvery(fullEvery: FullEvery | undefined, incremental: boolean, subdirectory: string | undefined): FullEvery | undefined {
  if (fullEvery === undefined) return undefined
  if (incremental) {
    throw new InputError(
      [Inputs.FullEvery, Inputs.Incremental],
      'full-every already chooses between a full backup and an incremental on each run; set one of them, not both.'
    )
  }
  if (subdirectory !== undefined) {
    throw new InputError(
      [Inputs.FullEvery, Inputs.Subdirectory],
      'full-every starts new full backups in date-based folders of their own, and a subdirectory only ever appends to the one full backup in it; set one of them, not both.'
    )
  }
  return fullEvery
}

/**
 * CockroachDB's own upper limit for `--max-offset` (5 s, `maximumMaxClockOffset` in pkg/base/config.go;
 * second reading R4-7); its default is 500ms and multi-region clusters are advised 250ms (facts §7a).
 * A larger value is milliseconds written as seconds, and the step would wait that long.
 */
const MAX_CLOCK_OFFSET_SECONDS = 5

function inWords(seconds: number): string {
  const whole = Math.round(seconds)
  const parts = [
    [Math.floor(whole / 3600), 'h'],
    [Math.floor((whole % 3600) / 60), 'min'],
    [whole % 60, 's']
  ] as const
  return parts
    .filter(([amount]) => amount > 0)
    .map(([amount, unit]) => `${amount} ${unit}`)
    .join(' ')
}

function parseMaxClockOffset(value: string): number {
  const text = value.trim()
  if (text === '') return DEFAULT_MAX_CLOCK_OFFSET_SECONDS * 1000
  const unit =
    "CockroachDB's --max-offset default is 500ms (0.5 here), and Cockroach Labs recommends 250ms (0.25) for multi-region clusters"
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new InputError(Inputs.MaxClockOffset, `${JSON.stringify(text)} is not a number of seconds: ${unit}.`)
  }
  const seconds = Number(text)
  if (seconds > MAX_CLOCK_OFFSET_SECONDS) {
    throw new InputError(
      Inputs.MaxClockOffset,
      `it is in seconds, so ${text} would mean ${inWords(seconds)}; ${unit}, so use 0 (a single node) to ${MAX_CLOCK_OFFSET_SECONDS}.`
    )
  }
  return Math.ceil(seconds * 1000)
}

const MAX_KEEP_BACKUPS = 10_000

function parseDownloadConnections(value: string): number {
  const text = optional(value)
  if (text === undefined) return DEFAULT_DOWNLOAD_CONNECTIONS
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_DOWNLOAD_CONNECTIONS) {
    throw new InputError(
      Inputs.DownloadConnections,
      `${JSON.stringify(text)} is not a whole number from 1 to ${MAX_DOWNLOAD_CONNECTIONS} (1 reads one file at a time; empty means ${DEFAULT_DOWNLOAD_CONNECTIONS}).`
    )
  }
  return Number(text)
}

function parseKeepBackups(value: string, collection: Collection): number | undefined {
  const text = optional(value)
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_KEEP_BACKUPS) {
    throw new InputError(
      Inputs.KeepBackups,
      `${JSON.stringify(text)} is not a whole number from 1 to ${MAX_KEEP_BACKUPS} (empty keeps every backup).`
    )
  }
  requireUserfile(
    collection,
    scheme =>
      new InputError(
        Inputs.KeepBackups,
        `is for userfile:// collections only; for a ${scheme}:// collection, bucket lifecycle rules (object expiry) are the right tool.`
      )
  )
  return Number(text)
}

function parseDownloadPath(value: string, collection: Collection): string | undefined {
  const path = optionalText(Inputs.DownloadPath, value)
  if (path === undefined) return undefined
  requireUserfile(
    collection,
    scheme =>
      new InputError(Inputs.DownloadPath, `is for userfile:// collections only; a ${scheme}:// collection is already outside the cluster.`)
  )
  return resolve(path)
}

/** The inputs, and then what they say of the runner's disk: download-path must be able to take the backup. */
export async function readInputs(readRaw: Read = readInput, mask: (secret: string) => void = core.setSecret): Promise<ActionInputs> {
  const inputs = getInputs(readRaw, mask)
  await checkRunnerPath(Inputs.DownloadPath, inputs.downloadPath, checkDownloadDirectory)
  noticeAboutDownload(inputs)
  return inputs
}

/**
 * Downloaded files end up wherever the workflow puts them, usually an artifact, which on a public
 * repository any signed-in user can download: say so when they are not encrypted.
 */
export function noticeAboutDownload(inputs: ActionInputs, notice: (message: string) => void = log.notice): void {
  if (inputs.downloadPath === undefined || inputs.encryptionPassphrase !== undefined) return
  notice(
    `${Inputs.DownloadPath} is set without ${Inputs.EncryptionPassphrase}: the downloaded backup files are not encrypted, and anyone who can read them (an artifact of a public repository: any signed-in GitHub user) can read the data. Set ${Inputs.EncryptionPassphrase} from a secret.`
  )
}
