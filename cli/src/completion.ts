// Shell completion scripts made from the commands and options commander knows, so they never fall
// behind the CLI: command names, then that command's options (and a shell's choices for completion).
import type { Command } from "commander";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

interface Spec {
  name: string;
  description: string;
  options: { flag: string; description: string; choices?: readonly string[] }[];
  /** The values an argument of the command is limited to (completion's shells). */
  values: readonly string[];
}

function specsOf(program: Command): Spec[] {
  return program.commands.map((cmd) => ({
    name: cmd.name(),
    description: cmd.description().split(/[:;(]/)[0]!.trim(),
    options: cmd.options.filter((o) => o.long).map((o) => ({ flag: o.long!, description: o.description, ...(o.argChoices ? { choices: o.argChoices } : {}) })),
    values: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
  }));
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function completionScript(program: Command, shell: Shell): string {
  const specs = specsOf(program);
  const globals = program.options.filter((o) => o.long).map((o) => o.long!);
  const name = program.name();
  if (shell === "bash") {
    const cases = specs.map((s) => `    ${s.name}) opts=${quote([...s.options.map((o) => o.flag), ...s.values].join(" "))} ;;`).join("\n");
    return `# bash completion for ${name}: source <(${name} completion bash)
_${name}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) ;; *) cmd=\${COMP_WORDS[i]}; break ;; esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W ${quote([...specs.map((s) => s.name), ...globals].join(" "))} -- "$cur"))
    return
  fi
  case $cmd in
${cases}
  esac
  COMPREPLY=($(compgen -W "$opts ${globals.join(" ")}" -- "$cur"))
}
complete -F _${name} ${name}
`;
  }
  if (shell === "zsh") {
    const commands = specs.map((s) => `    ${quote(`${s.name}:${s.description.replace(/:/g, "\\:")}`)}`).join("\n");
    const cases = specs
      .map((s) => {
        const options = s.options.map((o) => quote(`${o.flag}[${o.description.replace(/[[\]]/g, "")}]${o.choices ? `:value:(${o.choices.join(" ")})` : ""}`));
        return `    ${s.name}) _arguments ${[...options, ...(s.values.length > 0 ? [quote(`:value:(${s.values.join(" ")})`)] : [])].join(" ")} ;;`;
      })
      .join("\n");
    return `#compdef ${name}
# zsh completion for ${name}: ${name} completion zsh > "\${fpath[1]}/_${name}"
_${name}() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe command commands
    return
  fi
  case $words[2] in
${cases}
  esac
}
_${name} "$@"
`;
  }
  const lines = [`# fish completion for ${name}: ${name} completion fish > ~/.config/fish/completions/${name}.fish`, `complete -c ${name} -f`];
  for (const s of specs) lines.push(`complete -c ${name} -n __fish_use_subcommand -a ${s.name} -d ${quote(s.description)}`);
  for (const s of specs) {
    for (const o of s.options) {
      lines.push(`complete -c ${name} -n ${quote(`__fish_seen_subcommand_from ${s.name}`)} -l ${o.flag.slice(2)} -d ${quote(o.description)}${o.choices ? ` -xa ${quote(o.choices.join(" "))}` : ""}`);
    }
  }
  for (const s of specs.filter((s) => s.values.length > 0)) lines.push(`complete -c ${name} -n ${quote(`__fish_seen_subcommand_from ${s.name}`)} -a ${quote(s.values.join(" "))}`);
  return `${lines.join("\n")}\n`;
}
