"""The Typer application and the one place where library errors become messages and exit codes."""
from __future__ import annotations

import json
import sys

import typer

app = typer.Typer(
    name="recommender",
    help="Semantic paper recommender: related work and reading lists over your own paper collections, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Set by a command that was asked for --json, so that its errors come out as JSON too.
json_errors = {"enabled": False}


def want_json(enabled: bool) -> None:
    json_errors["enabled"] = enabled


def main(argv: list[str] | None = None) -> int:
    import click

    from ..errors import RecommenderError

    try:
        result = app(args=argv, prog_name="recommender", standalone_mode=False)
        return int(result or 0)
    except RecommenderError as exc:
        message = str(exc)
        if json_errors["enabled"]:
            print(json.dumps({"error": {"type": type(exc).__name__, "message": message}}))
        print(f"error: {message}", file=sys.stderr)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
