import { redact } from '../../errors.js'
import { backup, restore } from '../../backup.js'
import { parseArgs, type CliCommand } from '../command.js'

const BACKUP_HELP = `dbferry backup <sqlite-file> <dest> [--gzip]

Copies a live SQLite database with SQLite's online backup API (consistent while others write).
  --gzip   compress the copy (default when <dest> ends in .gz)
Restore it with: dbferry restore <dest> <sqlite-file>

Exit codes: 0 done, 1 failed, 2 usage.`

const RESTORE_HELP = `dbferry restore <backup> <sqlite-file>

Replaces the contents of <sqlite-file> with a backup made by dbferry backup (plain or gzip, detected).

Exit codes: 0 done, 1 failed, 2 usage.`

function kb(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`
}

/** `dbferry backup <sqlite-file> <dest> [--gzip]`. */
export const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'back up an SQLite file (online backup API, optionally gzip)',
  help: BACKUP_HELP,
  async run(args, io) {
    const { positionals, options } = parseArgs(args, ['gzip', 'help'])
    if (options.help) {
      io.stdout.write(`${BACKUP_HELP}\n`)
      return 0
    }
    const unknown = Object.keys(options).filter((k) => k !== 'gzip')
    if (positionals.length !== 2 || unknown.length > 0) {
      io.stderr.write(`${unknown.length > 0 ? `unknown option --${unknown[0]}` : 'backup needs <sqlite-file> <dest>'}\n\n${BACKUP_HELP}\n`)
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
  async run(args, io) {
    const { positionals, options } = parseArgs(args, ['help'])
    if (options.help) {
      io.stdout.write(`${RESTORE_HELP}\n`)
      return 0
    }
    const unknown = Object.keys(options)
    if (positionals.length !== 2 || unknown.length > 0) {
      io.stderr.write(`${unknown.length > 0 ? `unknown option --${unknown[0]}` : 'restore needs <backup> <sqlite-file>'}\n\n${RESTORE_HELP}\n`)
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
