import { redact } from '../../errors.js'
import { backup, restore } from '../../backup.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption, type ParsedCommandLine } from '../options-table.js'

const BACKUP_OPTIONS: readonly CliOption[] = [{ name: 'gzip', help: 'compress the copy (default when <dest> ends in .gz)' }]

const BACKUP_HELP = commandHelp({
  usage: 'dbferry backup <sqlite-file> <dest> [--gzip]',
  description: `Copies a live SQLite database with SQLite's online backup API (consistent while others write).
Restore it with: dbferry restore <dest> <sqlite-file>`,
  options: BACKUP_OPTIONS,
  footer: 'Exit codes: 0 done, 1 failed, 2 usage.',
})

const RESTORE_HELP = commandHelp({
  usage: 'dbferry restore <backup> <sqlite-file>',
  description: 'Replaces the contents of <sqlite-file> with a backup made by dbferry backup (plain or gzip, detected).',
  options: [],
  footer: 'Exit codes: 0 done, 1 failed, 2 usage.',
})

/** Parses `args`; a usage error is written with the help, as `undefined`. */
function parsed(args: string[], table: readonly CliOption[], help: string, io: CliIo): ParsedCommandLine | undefined {
  try {
    const result = parseCommandLine(args, table)
    logLevelOf(result.values)
    return result
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${help}\n`)
    return undefined
  }
}

function kb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`
}

/** `dbferry backup <sqlite-file> <dest> [--gzip]`. */
export const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'back up an SQLite file (online backup API, optionally gzip)',
  help: BACKUP_HELP,
  options: BACKUP_OPTIONS,
  positionals: 'file',
  async run(args, io) {
    const line = parsed(args, BACKUP_OPTIONS, BACKUP_HELP, io)
    if (!line) return 2
    const { positionals, values: options } = line
    if (positionals.length !== 2) {
      io.stderr.write(`backup needs <sqlite-file> <dest>\n\n${BACKUP_HELP}\n`)
      return 2
    }
    try {
      const r = await backup(positionals[0]!, positionals[1]!, options.gzip === true ? { gzip: true } : {})
      io.stdout.write(`backed up ${positionals[0]} to ${r.file} (${kb(r.bytes)}${r.gzip ? ', gzip' : ''}, ${r.ms} ms)\n`)
      return 0
    } catch (error) {
      io.stderr.write(`dbferry backup: ${redact((error as Error).message)}\n`)
      return 1
    }
  },
}

/** `dbferry restore <backup> <sqlite-file>`. */
export const restoreCommand: CliCommand = {
  name: 'restore',
  summary: 'restore an SQLite file from a dbferry backup',
  help: RESTORE_HELP,
  options: [],
  positionals: 'file',
  async run(args, io) {
    const line = parsed(args, [], RESTORE_HELP, io)
    if (!line) return 2
    const { positionals } = line
    if (positionals.length !== 2) {
      io.stderr.write(`restore needs <backup> <sqlite-file>\n\n${RESTORE_HELP}\n`)
      return 2
    }
    try {
      const r = await restore(positionals[0]!, positionals[1]!)
      io.stdout.write(`restored ${r.file} from ${positionals[0]} (${r.ms} ms)\n`)
      return 0
    } catch (error) {
      io.stderr.write(`dbferry restore: ${redact((error as Error).message)}\n`)
      return 1
    }
  },
}
