import { UsageError } from '../../errors.js'
import type { CliCommand } from '../command.js'
import { COMPLETION_SHELLS, completionScript, type CompletionShell } from '../completion.js'
import { commandHelp, logLevelOf, parseCommandLine } from '../options-table.js'

const HELP = commandHelp({
  usage: `dbferry completion ${COMPLETION_SHELLS.join('|')}`,
  description: `Prints the shell completion script: commands, options, the values of options that take a fixed set, and
file names where a file goes.

  bash:  source <(dbferry completion bash)      (or save it in ~/.local/share/bash-completion/completions/dbferry)
  zsh:   source <(dbferry completion zsh)       (or save it as _dbferry in a folder of $fpath)`,
  options: [],
})

/** `dbferry completion bash|zsh`, completing the commands `list` returns (read when the script is asked for). */
export const completionCommand = (list: () => readonly CliCommand[]): CliCommand => ({
  name: 'completion',
  summary: 'print the shell completion script (bash or zsh)',
  help: HELP,
  options: [],
  async run(args, io) {
    const { positionals, values } = parseCommandLine(args, [])
    logLevelOf(values)
    const [shell, extra] = positionals
    if (!COMPLETION_SHELLS.includes(shell as CompletionShell) || extra !== undefined) {
      throw new UsageError(`completion takes one shell: ${COMPLETION_SHELLS.join(' or ')}${shell === undefined ? '' : `, not ${JSON.stringify(positionals.join(' '))}`}`)
    }
    io.stdout.write(completionScript(shell as CompletionShell, list().filter((c) => c.name !== 'completion')))
    return 0
  },
})
