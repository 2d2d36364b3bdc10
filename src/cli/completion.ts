import type { Command } from 'commander';

/** One level of the command tree: the words that may follow it (subcommands and options). */
interface Level {
  path: string[];
  commands: string[];
  options: string[];
}

const visible = (c: Command) => c.name() !== 'help' && !(c as unknown as { _hidden?: boolean })._hidden;

function levels(program: Command): { levels: Level[]; valued: string[] } {
  const out: Level[] = [];
  const valued = new Set<string>();
  const global = program.options.flatMap((o) => (o.long && o.long !== '--version' ? [o.long] : []));
  const walk = (cmd: Command, path: string[]) => {
    for (const o of cmd.options) if (o.long && (o.required || o.optional)) valued.add(o.long);
    const subs = cmd.commands.filter(visible);
    out.push({
      path,
      commands: subs.map((c) => c.name()),
      options: [...new Set([...cmd.options.flatMap((o) => (o.long ? [o.long] : [])), ...global, '--help'])],
    });
    for (const c of subs) walk(c, [...path, c.name()]);
  };
  walk(program, []);
  return { levels: out, valued: [...valued].sort() };
}

const words = (l: Level) => [...l.commands, ...l.options].join(' ');

/** A bash completion script for the command tree (zsh loads it through bashcompinit). */
function bash(program: Command): string {
  const { levels: all, valued } = levels(program);
  const cases = all.map((l) => `    "${l.path.join(' ')}") words="${words(l)}" ;;`).join('\n');
  return `# troupe completion for bash: source <(troupe completion bash)
_troupe() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" words="" i w
  case " ${valued.join(' ')} " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case " ${valued.join(' ')} " in *" $w "*) i=$((i + 1)); continue ;; esac
    case "$w" in -*) continue ;; esac
    if [[ -z "$path" ]]; then path="$w"; else path="$path $w"; fi
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _troupe troupe
`;
}

function zsh(program: Command): string {
  return `# troupe completion for zsh: source <(troupe completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(program).split('\n').slice(1).join('\n')}`;
}

function fish(program: Command): string {
  const { levels: all, valued } = levels(program);
  const lines = ['# troupe completion for fish: troupe completion fish | source', 'complete -c troupe -f'];
  const top = all.find((l) => l.path.length === 0)!;
  lines.push(`complete -c troupe -n '__fish_use_subcommand' -a '${top.commands.join(' ')}'`);
  for (const l of all.filter((x) => x.path.length === 1)) {
    if (l.commands.length)
      lines.push(
        `complete -c troupe -n '__fish_seen_subcommand_from ${l.path[0]}' -a '${l.commands.join(' ')}'`,
      );
  }
  const flags = new Set(all.flatMap((l) => l.options));
  for (const f of [...flags].sort())
    lines.push(`complete -c troupe -l ${f.slice(2)}${valued.includes(f) ? ' -r' : ''}`);
  return `${lines.join('\n')}\n`;
}

export const SHELLS = { bash, zsh, fish } as const;
export type Shell = keyof typeof SHELLS;
