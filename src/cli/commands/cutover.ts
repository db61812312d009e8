import { cutover, type CutoverReport } from '../../catchup/cutover.js'
import { redact } from '../../errors.js'
import { formatVerifyReport } from '../../verify/format.js'
import type { CliCommand } from '../command.js'
import { commandHelp, type CliOption } from '../options-table.js'
import { failureCode } from './capture.js'
import { CATCH_UP_OPTIONS, catchUpRequest, formatCatchUp, parsedOrHelp } from './catch-up.js'

const CUTOVER_OPTIONS: readonly CliOption[] = [
  ...CATCH_UP_OPTIONS,
  { name: 'force', help: 'remove the capture from the source even when verify finds a difference' },
]

const HELP = commandHelp({
  usage: 'dbferry cutover <source> <target> [--tables a,b] [--config file] [--force] [--json]',
  description: `The last step of a short cut-over, once writes to the source have stopped: a final catch-up, verify of every
copied table, the target's identity columns and sequences moved past the largest keys, and the capture
triggers and change table removed from the source. When verify finds a difference the capture stays (so
nothing recorded is lost) unless --force. See docs/catch-up.md.`,
  options: CUTOVER_OPTIONS,
  footer: 'Exit codes: 0 source and target equal, capture removed; 1 a difference, a rejected row or a failure;\n2 usage.',
})

/** The cutover report as lines. */
function formatCutover(r: CutoverReport): string {
  const lines = [formatCatchUp(r.catchUp), formatVerifyReport(r.verify)]
  if (r.identity.length > 0) lines.push(`identity/sequences moved past the largest keys: ${r.identity.join(', ')}`)
  for (const p of r.identityProblems) lines.push(`  FAILED identity of ${p.table}: ${p.message}`)
  if (r.removed) lines.push(`capture removed: ${r.removed.triggers.length} trigger(s)${r.removed.changeTableDropped ? ' and the change table' : ''}`)
  if (r.captureKept) lines.push(r.captureKept)
  lines.push(r.ok ? 'cutover done: the target is the source' : 'cutover NOT done')
  return lines.join('\n')
}

/** `dbferry cutover <source> <target>`. */
export const cutoverCommand: CliCommand = {
  name: 'cutover',
  summary: 'final catch-up, verify, identities past the keys, capture removed',
  help: HELP,
  options: CUTOVER_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    const parsed = parsedOrHelp(args, CUTOVER_OPTIONS, HELP, io)
    if (!parsed) return 2
    try {
      const { json, ...options } = await catchUpRequest(parsed, io, 'cutover')
      const r = await cutover({ ...options, force: parsed.values.force === true })
      io.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : `${formatCutover(r)}\n`)
      return r.ok ? 0 : 1
    } catch (error) {
      io.stderr.write(`dbferry cutover: ${redact(error instanceof Error ? error.message : String(error))}\n`)
      return failureCode(error)
    }
  },
}
