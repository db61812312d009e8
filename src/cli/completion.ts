import type { CliCommand } from './command.js'
import { withCommon, type CliOption } from './options-table.js'

/** The shells `dbferry completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const

/** One of {@link COMPLETION_SHELLS}. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number]

/**
 * The completion script for `shell`, made from the commands' option tables: command names, each command's
 * options (long and short), the values of options that take a fixed set, file names where an option or a
 * positional is a file.
 */
export function completionScript(shell: CompletionShell, commands: readonly CliCommand[]): string {
  return shell === 'bash' ? bashScript(commands) : zshScript(commands)
}

function bashWords(words: readonly string[]): string {
  return words.join(' ')
}

function bashScript(commands: readonly CliCommand[]): string {
  const cases = commands.map((c) => {
    const options = withCommon(c.options)
    const byValue = options.filter((o) => o.value)
    const valueCases = [
      ...byValue.filter((o) => o.choices).map((o) => `        ${names(o).join('|')}) COMPREPLY=($(compgen -W "${bashWords(o.choices!)}" -- "$cur")); return ;;`),
      ...byValue.filter((o) => o.file).map((o) => `        ${names(o).join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`),
      ...byValue.filter((o) => !o.choices && !o.file).map((o) => `        ${names(o).join('|')}) return ;;`),
    ]
    return [
      `    ${c.name})`,
      `      case "$prev" in`,
      ...valueCases,
      `      esac`,
      `      opts="${bashWords(options.flatMap(names))}"`,
      `      positional=${c.positionals === 'file' ? 'file' : 'none'}`,
      `      ;;`,
    ].join('\n')
  })
  return `# bash completion for dbferry. Load it with:  source <(dbferry completion bash)
# or keep it:  dbferry completion bash > ~/.local/share/bash-completion/completions/dbferry
_dbferry() {
  local cur prev opts positional
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${bashWords(commands.map((c) => c.name))} completion --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    completion) COMPREPLY=($(compgen -W "${COMPLETION_SHELLS.join(' ')}" -- "$cur")); return ;;
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ "$positional" = file ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _dbferry dbferry
`
}

/** `--name` and `-s` of an option. */
function names(o: CliOption): string[] {
  return [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]
}

/** Text inside a zsh single-quoted `_arguments` spec: quotes, brackets and colons escaped. */
function zshText(text: string): string {
  return text.split('\n')[0]!.replace(/([[\]:\\])/g, '\\$1').replace(/'/g, `'\\''`)
}

function zshSpec(o: CliOption): string {
  const help = `[${zshText(o.help)}]`
  const action = o.value ? `:${zshText(o.value)}:${o.choices ? `(${o.choices.join(' ')})` : o.file ? '_files' : ' '}` : ''
  const repeat = o.repeatable ? '*' : ''
  if (o.short) return `'(-${o.short} --${o.name})'${repeat}{-${o.short},--${o.name}}'${help}${action}'`
  return `'${repeat}--${o.name}${help}${action}'`
}

function zshScript(commands: readonly CliCommand[]): string {
  const describe = commands.map((c) => `    '${c.name}:${zshText(c.summary)}'`)
  const cases = commands.map((c) => {
    const specs = withCommon(c.options).map(zshSpec)
    return [`    ${c.name})`, `      _arguments -s \\`, ...specs.map((s) => `        ${s} \\`), `        '*:argument:${c.positionals === 'file' ? '_files' : ' '}'`, `      ;;`].join('\n')
  })
  return `#compdef dbferry
# zsh completion for dbferry. Load it with:  source <(dbferry completion zsh)
# or keep it as _dbferry in a folder of $fpath:  dbferry completion zsh > ~/.zfunc/_dbferry
_dbferry() {
  local -a commands
  commands=(
${describe.join('\n')}
    'completion:print the shell completion script (bash or zsh)'
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'dbferry command' commands
    return
  fi
  local command=$words[2]
  shift words
  (( CURRENT-- ))
  case $command in
${cases.join('\n')}
    completion) _arguments '1:shell:(${COMPLETION_SHELLS.join(' ')})' ;;
  esac
}
if [ "$funcstack[1]" = "_dbferry" ]; then
  _dbferry "$@"
else
  compdef _dbferry dbferry
fi
`
}
