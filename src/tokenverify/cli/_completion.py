"""``tokenverify completion bash|zsh|fish``: a shell completion script made from the parser.

The script is generated from the argparse parser that runs the command, so it offers
exactly the subcommands and flags that exist, and cannot drift from them. It is static:
pressing TAB never starts Python. Values are completed by what an argument expects:

- ``choices`` (``--color``, ``--format``, ``schema DOCUMENT``...): the choices;
- a path: a metavar naming a file (``FILE``, ``KEYFILE``, ``KEYS``, ``SOURCE``, ``PATH``,
  or a file name such as ``KEY.pem`` or ``policy.json``) or ``type=Path``: file names;
  ``DIR`` in the metavar or the destination (``demo --dir``): folder names;
- anything else (fingerprints, ARNs, times): nothing, rather than misleading file names.

Why our own generator: shtab writes bash, zsh and tcsh from argparse but no fish;
argcomplete covers all three but runs the program on every TAB (a Python start and our
parser each time) and needs a hook at the top of ``main``. Walking the parser is a page.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._output import Console

__all__ = ["SHELLS", "Command", "Option", "Positional", "completion_script", "describe"]

SHELLS = ("bash", "zsh", "fish")
PROG = "tokenverify"

Kind = Literal["none", "file", "dir", "choices"]

#: Words that make a metavar a path; a metavar with a file extension is one too.
_PATH_WORDS = ("FILE", "KEYS", "SOURCE", "PATH")
#: What may appear in the scripts unquoted: names, flags and choices.
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*|--?[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Values:
    """What an argument's value completes to."""

    kind: Kind
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """One option, with every flag that spells it."""

    flags: tuple[str, ...]
    help: str
    takes_value: bool
    repeatable: bool
    metavar: str
    values: Values


@dataclass(frozen=True)
class Positional:
    """One positional argument; ``many`` for ``nargs='+'``/``'*'``."""

    name: str
    help: str
    optional: bool
    many: bool
    values: Values


@dataclass(frozen=True)
class Command:
    """A parser: ``path`` is ``()`` for ``tokenverify`` itself, ``("keys", "add")``..."""

    path: tuple[str, ...]
    help: str
    options: tuple[Option, ...]
    positionals: tuple[Positional, ...]
    subcommands: tuple[Command, ...]

    def walk(self) -> Iterator[Command]:
        """This command and every command below it, parents first."""
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


def describe(parser: argparse.ArgumentParser) -> Command:
    """The command tree of ``parser``: what the scripts are generated from."""
    return _describe(parser, (), parser.description or "")


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`)."""
    root = describe(parser)
    for command in root.walk():
        _check_words(command)
    if shell == "bash":
        return _bash(root)
    if shell == "zsh":
        return _zsh(root)
    if shell == "fish":
        return _fish(root)
    raise ValueError(f"no completion for shell {shell!r}: choose one of {', '.join(SHELLS)}")


def print_completion(args: argparse.Namespace, console: Console) -> int:
    """The ``completion`` command: print the script for ``args.shell``."""
    console.print(completion_script(args.root, args.shell).rstrip("\n"))
    return 0


# --- the parser, read ---------------------------------------------------------------


def _describe(parser: argparse.ArgumentParser, path: tuple[str, ...], summary: str) -> Command:
    options: list[Option] = []
    positionals: list[Positional] = []
    subcommands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                subcommands.append(_describe(sub, (*path, name), summaries.get(name, "")))
        elif action.help == argparse.SUPPRESS:
            continue
        elif action.option_strings:
            options.append(_option(action))
        else:
            positionals.append(_positional(action))
    return Command(path, summary, tuple(options), tuple(positionals), tuple(subcommands))


def _option(action: argparse.Action) -> Option:
    takes_value = action.nargs != 0
    return Option(
        flags=tuple(action.option_strings),
        help=_help(action),
        takes_value=takes_value,
        repeatable=isinstance(action, argparse._AppendAction | argparse._CountAction),
        metavar=_metavar(action),
        values=_values(action) if takes_value else Values("none"),
    )


def _positional(action: argparse.Action) -> Positional:
    return Positional(
        name=_metavar(action),
        help=_help(action),
        optional=action.nargs in ("?", "*"),
        many=action.nargs in ("+", "*"),
        values=_values(action),
    )


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % {**vars(action), "prog": PROG}
    return " ".join(text.split())


def _metavar(action: argparse.Action) -> str:
    metavar = action.metavar
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    return metavar or action.dest.upper()


def _values(action: argparse.Action) -> Values:
    if action.choices is not None:
        return Values("choices", tuple(str(choice) for choice in action.choices))
    parts = _metavar(action).upper().split("|")
    if any("DIR" in part for part in parts) or "DIR" in action.dest.upper():
        return Values("dir")
    if action.type is Path or any(_names_a_file(part) for part in parts):
        return Values("file")
    return Values("none")


def _names_a_file(part: str) -> bool:
    return any(word in part for word in _PATH_WORDS) or re.search(r"\.[A-Z]+$", part) is not None


def _check_words(command: Command) -> None:
    # Names, flags and choices go into the scripts unquoted, as case patterns and word
    # lists: refuse anything a shell would read as more than a word.
    words = [*command.path]
    for option in command.options:
        words += [*option.flags, *option.values.choices]
    for positional in command.positionals:
        words += positional.values.choices
    for word in words:
        if _WORD.fullmatch(word) is None:
            raise ValueError(f"cannot complete {word!r} in a shell script: not a plain word")


# --- bash -----------------------------------------------------------------------------


def _bash(root: Command) -> str:
    commands, options, values, positionals = [], [], [], []
    for command in root.walk():
        key = " ".join(command.path)
        if command.subcommands:
            names = " ".join(sub.path[-1] for sub in command.subcommands)
            commands.append(f'        "{key}") REPLY="{names}" ;;')
        flags = " ".join(flag for option in command.options for flag in option.flags)
        options.append(f'        "{key}") REPLY="{flags}" ;;')
        for option in command.options:
            if option.takes_value:
                patterns = "|".join(f'"{key}|{flag}"' for flag in option.flags)
                values.append(f'        {patterns}) REPLY="{_bash_values(option.values)}" ;;')
        for index, positional in enumerate(command.positionals):
            pattern = f'"{key}|"*' if positional.many else f'"{key}|{index}"'
            positionals.append(f'        {pattern}) REPLY="{_bash_values(positional.values)}" ;;')
    return _BASH.format(
        commands="\n".join(commands),
        options="\n".join(options),
        values="\n".join(values),
        positionals="\n".join(positionals),
    )


def _bash_values(values: Values) -> str:
    return " ".join(values.choices) if values.kind == "choices" else f"@{values.kind}"


_BASH = """\
# bash completion for tokenverify; generated by 'tokenverify completion bash'.
# Load it now:        source <(tokenverify completion bash)
# or for every shell: tokenverify completion bash \\
#                         > ~/.local/share/bash-completion/completions/tokenverify

# Each helper sets REPLY for a command path such as "keys add" (no subshells).
_tokenverify_commands() {{
    case $1 in
{commands}
        *) REPLY="" ;;
    esac
}}

_tokenverify_options() {{
    case $1 in
{options}
        *) REPLY="" ;;
    esac
}}

# Succeeds if option $2 of command $1 takes a value; REPLY: its choices, @file, @dir, @none.
_tokenverify_value() {{
    case "$1|$2" in
{values}
        *) REPLY=""; return 1 ;;
    esac
}}

# REPLY: what positional number $2 (from 0) of command $1 completes to.
_tokenverify_positional() {{
    case "$1|$2" in
{positionals}
        *) REPLY="@none" ;;
    esac
}}

_tokenverify_reply() {{
    local line
    local -a generate
    COMPREPLY=()
    case $1 in
        @none) return ;;
        @file) compopt -o filenames 2>/dev/null; generate=(-f) ;;
        @dir)  compopt -o filenames 2>/dev/null; generate=(-d) ;;
        *)     generate=(-W "$1") ;;
    esac
    # One candidate a line, so that file names with spaces stay whole.
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen "${{generate[@]}}" -- "$2")
}}

_tokenverify() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} path="" word option REPLY
    local value="" joined="" positional=0 i
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        # bash splits words at ':' and '=' (COMP_WORDBREAKS): glue them back on.
        if [[ $word == : ]]; then joined=1; continue; fi
        if [[ -n $joined ]]; then joined=""; continue; fi
        if [[ -n $value ]]; then
            [[ $word == = ]] || value=""
            continue
        fi
        case $word in
            -*) _tokenverify_value "$path" "$word" && value=1 ;;
            *)  _tokenverify_commands "$path"
                if [[ -n $REPLY && " $REPLY " == *" $word "* ]]; then
                    path=${{path:+$path }}$word
                    positional=0
                else
                    positional=$((positional + 1))
                fi ;;
        esac
    done
    if [[ -n $value ]]; then
        option=${{COMP_WORDS[COMP_CWORD - 1]}}
        [[ $option == = ]] && option=${{COMP_WORDS[COMP_CWORD - 2]}}
        [[ $cur == = ]] && cur=""
        _tokenverify_value "$path" "$option"
        _tokenverify_reply "$REPLY" "$cur"
    elif [[ $cur == -* ]]; then
        _tokenverify_options "$path"
        _tokenverify_reply "$REPLY" "$cur"
    else
        _tokenverify_commands "$path"
        if [[ -z $REPLY ]]; then _tokenverify_positional "$path" "$positional"; fi
        _tokenverify_reply "$REPLY" "$cur"
    fi
}}

complete -F _tokenverify tokenverify
"""


# --- zsh ------------------------------------------------------------------------------


def _zsh(root: Command) -> str:
    functions = [_zsh_function(command) for command in root.walk()]
    return _ZSH.format(functions="\n\n".join(functions))


def _zsh_name(command: Command) -> str:
    return "_" + "_".join((PROG, *command.path)).replace("-", "_")


def _zsh_function(command: Command) -> str:
    specs = [spec for option in command.options for spec in _zsh_option(option)]
    if not command.subcommands:
        specs += [_zsh_positional(positional) for positional in command.positionals]
        body = ["    _arguments -s : \\", *(f"        {spec} \\" for spec in specs), "        ;"]
        return "\n".join([f"{_zsh_name(command)}() {{", *body, "}"])
    specs += ["': :->command'", "'*:: :->args'"]
    described = _zsh_quote(" ".join((PROG, *command.path, "command")))
    names = [_zsh_quote(f"{sub.path[-1]}:{_zsh_escape(sub.help)}") for sub in command.subcommands]
    calls = [
        f"                {sub.path[-1]}) {_zsh_name(sub)} && ret=0 ;;"
        for sub in command.subcommands
    ]
    body = [
        '    local curcontext="$curcontext" state line ret=1',
        "    typeset -A opt_args",
        "    _arguments -C -s : \\",
        *(f"        {spec} \\" for spec in specs),
        "        && ret=0",
        "    case $state in",
        "        command)",
        "            local -a commands",
        "            commands=(",
        *(f"                {name}" for name in names),
        "            )",
        f"            _describe -t commands {described} commands && ret=0 ;;",
        "        args)",
        "            case $words[1] in",
        *calls,
        "            esac ;;",
        "    esac",
        "    return ret",
    ]
    return "\n".join([f"{_zsh_name(command)}() {{", *body, "}"])


def _zsh_option(option: Option) -> Iterator[str]:
    excluded = "" if option.repeatable else f"({' '.join(option.flags)})"
    if "--help" in option.flags:
        excluded = "(- *)"  # help ends the line
    repeat = "*" if option.repeatable else ""
    for flag in option.flags:
        spec = f"{excluded}{repeat}{flag}"
        if option.takes_value:
            spec += "=" if flag.startswith("--") else "+"
        spec += f"[{_zsh_escape(option.help)}]"
        if option.takes_value:
            spec += f":{_zsh_escape(option.metavar)}:{_zsh_action(option.values)}"
        yield _zsh_quote(spec)


def _zsh_positional(positional: Positional) -> str:
    head = "*:" if positional.many else "::" if positional.optional else ":"
    message = _zsh_escape(positional.name)
    return _zsh_quote(f"{head}{message}:{_zsh_action(positional.values)}")


def _zsh_action(values: Values) -> str:
    if values.kind == "choices":
        return f"({' '.join(values.choices)})"
    return {"file": "_files", "dir": "_files -/", "none": " "}[values.kind]


def _zsh_escape(text: str) -> str:
    # Descriptions and messages sit inside _arguments specs: [ ] : and \ are syntax there.
    return re.sub(r"([\[\]:\\])", r"\\\1", text)


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


_ZSH = """\
#compdef tokenverify
# zsh completion for tokenverify; generated by 'tokenverify completion zsh'.
# Load it now (after compinit):  source <(tokenverify completion zsh)
# or for every shell:            tokenverify completion zsh > "${{fpath[1]}}/_tokenverify"

{functions}

if [[ $funcstack[1] == _tokenverify ]]; then
    _tokenverify "$@"   # autoloaded from fpath
else
    compdef _tokenverify tokenverify
fi
"""


# --- fish -----------------------------------------------------------------------------


def _fish(root: Command) -> str:
    valued, commands, rules = [], [], []
    for command in root.walk():
        key = " ".join(command.path)
        condition = _fish_quote(f"__tokenverify_at {_fish_quote(key)}")
        for sub in command.subcommands:
            commands.append(_fish_quote(f"{key}|{sub.path[-1]}"))
            rules.append(
                f"complete -c tokenverify -n {condition} -a {sub.path[-1]}"
                f" -d {_fish_quote(sub.help)}"
            )
        for option in command.options:
            names = []
            for flag in option.flags:
                if option.takes_value:
                    valued.append(_fish_quote(f"{key}|{flag}"))
                names.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
            value = _fish_values(option.values, option=True) if option.takes_value else ""
            rules.append(
                f"complete -c tokenverify -n {condition} {' '.join(names)}{value}"
                f" -d {_fish_quote(option.help)}"
            )
        if not command.subcommands:
            for positional in command.positionals[:1]:  # fish cannot tell them apart
                if positional.values.kind == "none":
                    continue
                rules.append(
                    f"complete -c tokenverify -n {condition}"
                    f"{_fish_values(positional.values, option=False)}"
                )
    return _FISH.format(
        valued=" \\\n    ".join(valued),
        commands=" \\\n    ".join(commands),
        rules="\n".join(rules),
    )


def _fish_values(values: Values, *, option: bool) -> str:
    required = " -r" if option else ""
    if values.kind == "file":
        return f"{required} -F"
    if values.kind == "dir":
        return " -x -a '(__fish_complete_directories (commandline -ct))'"
    if values.kind == "choices":
        return f" -x -a {_fish_quote(' '.join(values.choices))}"
    return " -x" if option else ""


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


_FISH = """\
# fish completion for tokenverify; generated by 'tokenverify completion fish'.
# Load it now:        tokenverify completion fish | source
# or for every shell: tokenverify completion fish > ~/.config/fish/completions/tokenverify.fish

# "COMMAND PATH|FLAG" of every option that takes a value, and "PATH|NAME" of every subcommand.
set -g __tokenverify_valued \\
    {valued}
set -g __tokenverify_commands \\
    {commands}

# The command path being completed ("", "verify", "keys add"...), walking past options
# and their values.
function __tokenverify_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path ''
    set -l value 0
    for token in $tokens
        if test $value = 1
            set value 0
            continue
        end
        switch $token
            case '--*=*'
            case '-*'
                if contains -- "$path|$token" $__tokenverify_valued
                    set value 1
                end
            case '*'
                if contains -- "$path|$token" $__tokenverify_commands
                    set path (string trim -- "$path $token")
                end
        end
    end
    echo $path
end

function __tokenverify_at
    set -l path (__tokenverify_path)
    test "$path" = "$argv[1]"
end

complete -c tokenverify -f
{rules}
"""
