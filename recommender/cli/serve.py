"""`recommender serve`: the web page and the HTTP API over one index."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from .app import app


LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def check_port_free(host: str, port: int) -> None:
    """uvicorn reports a busy port by logging and exiting; say it in one line before loading anything."""
    import socket

    from ..errors import UsageError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r}: not an address of this machine ({exc.strerror})") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from exc


@app.command()
def serve(
    index: str = typer.Option("default", "--index", "-i", help="Index folder, or a bare name for indexes/NAME."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 opens it to your network)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on.", min=1, max=65535),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level: critical | error | warning | info | debug."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, max=256,
                                          help="Requests computed at once; the others wait in line (default: 4 per core)."),
    allowed_host: Optional[List[str]] = typer.Option(None, "--allowed-host", help=(
        "Also answer requests for this host name (repeatable; *.DOMAIN, or * for any). By default only the "
        "--host address and localhost (with --host 0.0.0.0, this machine's names) are answered.")),
):
    """Serve the web page and the JSON API (docs at /docs) over an index."""
    try:
        import uvicorn

        from ..server import create_app
    except ImportError as exc:
        from ..errors import UsageError

        raise UsageError(f"the server needs the `serve` extra ({exc.name} is missing): "
                         "pip install 'recommender[serve]'") from exc
    from ..errors import UsageError

    if log_level not in LOG_LEVELS:
        raise UsageError(f"--log-level {log_level!r}: choose one of {' | '.join(LOG_LEVELS)}")
    check_port_free(host, port)
    server_app = create_app(index, threads=threads, host=host, allowed_hosts=allowed_host or ())  # opens and warms the index: a bad one fails here, before the port opens
    rec = server_app.state.rec
    print(f"serving {len(rec)} papers from {rec.folder} on http://{host}:{port}/ "
          f"(API docs: http://{host}:{port}/docs; {server_app.state.threads} worker threads); Ctrl-C stops", file=sys.stderr)
    uvicorn.run(server_app, host=host, port=port, log_level=log_level)
