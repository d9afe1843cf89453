import type { Command, Option } from 'commander';

/** The shells `agola completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

/** One of {@link COMPLETION_SHELLS}. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/**
 * Marks a commander argument parser with the values it accepts, so completion offers them
 * (`enumArg` does it).
 */
export function withCompletionValues<F extends object>(parser: F, values: readonly string[]): F {
  return Object.assign(parser, { completionValues: [...values] });
}

function completionValuesOf(parser: unknown): string[] {
  if (typeof parser !== 'function') return [];
  const values = (parser as { completionValues?: unknown }).completionValues;
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

/** A flag of a command, as completion sees it. */
export interface CompletionFlag {
  /** `--name`, or `-n` for a short-only flag. */
  name: string;
  /** Its other spelling (`-n`), if any. */
  short?: string;
  /** The help text. */
  description: string;
  /** True when the flag takes a value (`--name <name>`). */
  takesValue: boolean;
  /** The values it accepts, when they are a fixed set. */
  values: string[];
}

/** One command of the tree: its path from the root, subcommands, flags, argument values. */
export interface CompletionNode {
  /** The command names from the root (`[]` for `agola`, `['run', 'task']`...). */
  path: string[];
  /** The help text. */
  description: string;
  /** Its subcommands. */
  commands: CompletionNode[];
  /** Its own flags plus the root's (global) flags and `--help`. */
  flags: CompletionFlag[];
  /** The values its first positional argument accepts, when they are a fixed set. */
  argValues: string[];
}

function flagOf(o: Option): CompletionFlag {
  const name = o.long ?? o.short ?? o.flags;
  return {
    name,
    ...(o.long && o.short ? { short: o.short } : {}),
    description: o.description,
    takesValue: o.required || o.optional,
    values: o.argChoices ? [...o.argChoices] : completionValuesOf(o.parseArg),
  };
}

/**
 * The command tree of `program` as completion sees it: every visible command and flag, read
 * from commander (so a new command or flag is completed without touching the scripts).
 */
export function completionTree(program: Command): CompletionNode {
  const help = program.createHelp();
  const globals = help
    .visibleOptions(program)
    .map(flagOf)
    .filter((f) => f.name !== '--help');
  const walk = (cmd: Command, path: string[]): CompletionNode => {
    const own = help
      .visibleOptions(cmd)
      .map(flagOf)
      .filter((f) => !globals.some((g) => g.name === f.name));
    const first = cmd.registeredArguments[0];
    return {
      path,
      description: cmd.description(),
      commands: help
        .visibleCommands(cmd)
        .filter((c) => c.name() !== 'help')
        .map((c) => walk(c, [...path, c.name()])),
      flags: [...own, ...globals],
      argValues: first
        ? first.argChoices
          ? [...first.argChoices]
          : completionValuesOf(first.parseArg)
        : [],
    };
  };
  return walk(program, []);
}

function nodes(root: CompletionNode): CompletionNode[] {
  return [root, ...root.commands.flatMap(nodes)];
}

/** A bash/zsh single-quoted word. */
function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function flagNames(f: CompletionFlag): string[] {
  return f.short ? [f.name, f.short] : [f.name];
}

/**
 * The `case` branches that set the words of one command path: `subs`, `flags`, the flags
 * taking a value (`valued`), the values of its first argument (`args`) and of each flag
 * with a fixed set (`_agola_values_<n>`, selected in `values`).
 */
function bashLevels(root: CompletionNode, fn: string): string {
  const branches = nodes(root).map((n) => {
    const valued = n.flags.filter((f) => f.takesValue).flatMap(flagNames);
    const withValues = n.flags.filter((f) => f.values.length > 0);
    const valueCases = withValues
      .map((f) => `        ${flagNames(f).join('|')}) values=${sq(f.values.join(' '))} ;;`)
      .join('\n');
    return [
      `    ${sq(n.path.join(' '))})`,
      `      subs=${sq(n.commands.map((c) => c.path.at(-1)).join(' '))}`,
      `      flags=${sq(n.flags.flatMap(flagNames).join(' '))}`,
      `      valued=${sq(` ${valued.join(' ')} `)}`,
      `      args=${sq(n.argValues.join(' '))}`,
      valueCases ? `      case "$2" in\n${valueCases}\n      esac` : '',
      `      ;;`,
    ]
      .filter(Boolean)
      .join('\n');
  });
  return `${fn}() {
  # $1: the command path, $2: the flag before the cursor; sets subs, flags, valued, args, values
  subs='' flags='' valued=' ' args='' values=''
  case "$1" in
${branches.join('\n')}
  esac
}`;
}

/**
 * The bash completion script of `program` (`source <(agola completion bash)`): completes
 * commands, subcommands, flags, and the values of flags and arguments with a fixed set.
 */
export function bashCompletionScript(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return `# bash completion for ${name} (generated by \`${name} completion bash\`)
# Load it with: source <(${name} completion bash)
${bashLevels(completionTree(program), `${fn}_level`)}

${fn}_completion() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path='' prev='' w i
  local subs flags valued args values
  # walk the words before the cursor: command names extend the path, a flag taking a value
  # skips the next word
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ -n "$prev" ]]; then prev=''; continue; fi
    ${fn}_level "$path" ''
    case "$w" in
      --*=*) ;;
      -*) [[ "$valued" == *" $w "* ]] && prev="$w" ;;
      *) [[ " $subs " == *" $w "* ]] && path="\${path:+$path }$w" ;;
    esac
  done
  ${fn}_level "$path" "$prev"
  if [[ -n "$prev" ]]; then
    if [[ -n "$values" ]]; then
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$subs $args" -- "$cur"))
  fi
  return 0
}

complete -o default -F ${fn}_completion ${name}
`;
}

/** A `name:description` entry of zsh's `_describe` (colons in the name escaped). */
function describeEntry(name: string, description: string): string {
  return sq(`${name.replace(/:/g, '\\:')}:${oneLine(description)}`);
}

/**
 * The zsh completion script of `program`: put it in a file `_agola` on `$fpath`, or
 * `source <(agola completion zsh)` after `compinit`. Completes commands and flags with
 * their help text, and the values of flags and arguments with a fixed set.
 */
export function zshCompletionScript(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const branches = nodes(completionTree(program)).map((n) => {
    const valued = n.flags.filter((f) => f.takesValue).flatMap(flagNames);
    const valueCases = n.flags
      .filter((f) => f.values.length > 0)
      .map((f) => `        ${flagNames(f).join('|')}) values=(${f.values.map(sq).join(' ')}) ;;`)
      .join('\n');
    return [
      `    ${sq(n.path.join(' '))})`,
      `      subs=(${n.commands.map((c) => describeEntry(c.path.at(-1) ?? '', c.description)).join(' ')})`,
      `      flags=(${n.flags.flatMap((f) => flagNames(f).map((x) => describeEntry(x, f.description))).join(' ')})`,
      `      valued=(${valued.map(sq).join(' ')})`,
      `      args=(${n.argValues.map(sq).join(' ')})`,
      valueCases ? `      case "$2" in\n${valueCases}\n      esac` : '',
      `      ;;`,
    ]
      .filter(Boolean)
      .join('\n');
  });
  return `#compdef ${name}
# zsh completion for ${name} (generated by \`${name} completion zsh\`)
# Load it with: source <(${name} completion zsh)   (after compinit), or save it as _${name}
# in a directory of $fpath.

${fn}_level() {
  # $1: the command path, $2: the flag before the cursor; sets subs, flags, valued, args, values
  subs=() flags=() valued=() args=() values=()
  case "$1" in
${branches.join('\n')}
  esac
}

${fn}() {
  local cmdpath='' prev='' w i
  local -a subs flags valued args values names
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    if [[ -n "$prev" ]]; then prev=''; continue; fi
    ${fn}_level "$cmdpath" ''
    case "$w" in
      --*=*) ;;
      -*) (( \${valued[(Ie)$w]} )) && prev="$w" ;;
      *)
        names=(\${subs%%:*})
        (( \${names[(Ie)$w]} )) && cmdpath="\${cmdpath:+$cmdpath }$w"
        ;;
    esac
  done
  ${fn}_level "$cmdpath" "$prev"
  if [[ -n "$prev" ]]; then
    if (( \${#values} )); then
      compadd -a values
    else
      _files
    fi
  elif [[ "\${words[CURRENT]}" == -* ]]; then
    _describe -t options option flags
  else
    (( \${#args} )) && compadd -a args
    _describe -t commands command subs
  fi
}

if [[ "\${funcstack[1]}" == "${fn}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}

/** The completion script of `program` for `shell`. */
export function completionScript(program: Command, shell: CompletionShell): string {
  return shell === 'bash' ? bashCompletionScript(program) : zshCompletionScript(program);
}
