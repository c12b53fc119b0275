"""The Typer application and the one place where errors become one-line messages and exit codes."""
from __future__ import annotations

import json
import re
import sys

import typer

app = typer.Typer(
    name="recommender",
    help="Semantic paper recommender: related work and reading lists over your own paper collections, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

PROG = "recommender"
USAGE_EXIT = 2

# Set by a command that was asked for --json, so that its errors come out as JSON too.
json_errors = {"enabled": False}


def want_json(enabled: bool) -> None:
    json_errors["enabled"] = enabled


def asks_for_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON output, read before parsing: an argument error happens before any
    command runs, and must come out as JSON too. `evaluate --json FILE` writes a file; its output stays text."""
    tokens = args[: args.index("--")] if "--" in args else list(args)
    command = next((t for t in tokens if not t.startswith("-")), None)
    if command == "evaluate":
        return False
    if "--json" in tokens:
        return True
    if command in ("recommend", "reading-list"):
        pairs = zip(tokens, tokens[1:] + [""])
        return any(t in ("--format", "-f") and v.lower() == "json" for t, v in pairs) or any(
            t.lower() in ("--format=json", "-fjson") for t in tokens)
    return False


def command_names() -> list[str]:
    return [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]


def report_error(kind: str, message: str, exit_code: int) -> int:
    message = " ".join(message.split())  # one line, whatever the message held
    if json_errors["enabled"]:
        print(json.dumps({"error": {"type": kind, "message": message}}, ensure_ascii=False))
    print(f"error: {message}", file=sys.stderr)
    return exit_code


def _parser_exception_kinds() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(exit, abort, argument error) exception classes of the installed Typer, and of Click where Typer still
    raises Click's own (Typer before 0.20 did; 0.29 carries its own copy of Click)."""
    exits, aborts, errors = [typer.Exit], [typer.Abort], []
    if hasattr(typer, "TyperException"):
        errors.append(typer.TyperException)
    try:
        import click
    except ImportError:
        pass
    else:
        exits.append(click.exceptions.Exit)
        aborts.append(click.exceptions.Abort)
        errors.append(click.ClickException)
    return tuple(exits), tuple(aborts), tuple(errors)


def argument_error_message(exc: Exception, args: list[str]) -> str:
    """A parser's error as our one line: what was wrong, then a hint (a close match, or where the help is)."""
    ctx = getattr(exc, "ctx", None)
    first = next((t for t in args if not t.startswith("-")), None)
    command = getattr(ctx, "command_path", None) or (f"{PROG} {first}" if first in command_names() else PROG)
    if any(k.__name__ == "NoArgsIsHelpError" for k in type(exc).__mro__):  # its message is the whole help
        return f"{command} needs arguments; see `{command} --help`"
    message = " ".join(exc.format_message().split())
    possibilities = list(getattr(exc, "possibilities", None) or [])
    message = re.sub(r"\s*\(Possible options: [^)]*\)", "", message)
    message = message.rstrip(".")
    message = re.sub(r"'(-[\w-]+)' / '(-[\w-]+)'", r"\1/\2", message)  # '-k' / '--k' -> -k/--k
    message = re.sub(r"^(Invalid value for [^:]+: )(\w)", lambda m: m[1] + m[2].lower(), message)
    message = re.sub(r"\.\s+Did you mean ", "; did you mean ", message)
    message = message[:1].lower() + message[1:] if message[1:2].islower() else message
    if possibilities:
        message += f"; did you mean {' or '.join(sorted(possibilities))}?"
    if "did you mean" not in message:
        message += f"; see `{command} --help`"
    return message


def main(argv: list[str] | None = None) -> int:
    from ..errors import RecommenderError

    args = list(sys.argv[1:] if argv is None else argv)
    want_json(asks_for_json(args))
    if not args:
        return report_error("UsageError", f"no command given: choose one of {', '.join(command_names())} "
                                          f"(`{PROG} --help` says what each does)", USAGE_EXIT)
    exits, aborts, argument_errors = _parser_exception_kinds()
    try:
        result = app(args=args, prog_name=PROG, standalone_mode=False)
        return int(result or 0)
    except RecommenderError as exc:
        return report_error(type(exc).__name__, str(exc), exc.exit_code)
    except exits as exc:
        return exc.exit_code
    except aborts:
        print("aborted", file=sys.stderr)
        return 130
    except argument_errors as exc:
        code = getattr(exc, "exit_code", 1)
        if code == USAGE_EXIT:
            return report_error("UsageError", argument_error_message(exc, args), USAGE_EXIT)
        return report_error(type(exc).__name__, exc.format_message(), code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
