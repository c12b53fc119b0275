"""Which `Host:` headers the server answers: those it is served under, nothing else.

A page on another site can make the browser send requests to 127.0.0.1 under the other site's own
name (DNS rebinding): the browser then treats the answers as that site's and lets its script read
them. Refusing every Host that is not one of the server's own names closes that door. Starlette's
TrustedHostMiddleware does the matching; a refusal comes back in the API's JSON error shape.
"""
from __future__ import annotations

import json
import socket
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")  # Starlette compares IPv6 hosts with their brackets
EVERY_ADDRESS = ("0.0.0.0", "::", "")
ANY_HOST = "*"
_PASSED = "recommender.host_allowed"


def served_hosts(listen_host: str = "127.0.0.1", extra: Iterable[str] = ()) -> list[str]:
    """The names a client may use to reach a server listening on `listen_host`: the loopback names; the
    address itself; for 0.0.0.0 (every interface) also this machine's host names and their addresses.
    `extra`: more names (a reverse proxy's, a LAN name), or "*" for any."""
    hosts = list(LOOPBACK_NAMES)
    if (listen_host or "").strip().strip("[]") in EVERY_ADDRESS:
        hosts += _this_machine()
    else:
        hosts.append(_as_host(listen_host))
    hosts += [_as_host(h) for h in extra if h and h.strip()]
    return list(dict.fromkeys(hosts))


def _as_host(name: str) -> str:
    """A name as a Host header carries it: lower case, an IPv6 address in brackets."""
    name = name.strip().lower()
    bare = name.strip("[]")
    return f"[{bare}]" if bare.count(":") > 1 else name


def _this_machine() -> list[str]:
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        names += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)]
    except OSError:  # a host name that does not resolve: its name alone still works through a proxy
        pass
    return [_as_host(name) for name in names if name]


def check_hosts(hosts: Iterable[str]) -> list[str]:
    """The patterns TrustedHostMiddleware accepts: a name, an address, "*.example.org" or "*"."""
    from ..errors import UsageError

    hosts = list(hosts)
    for pattern in hosts:
        if ANY_HOST in pattern[1:] or (pattern.startswith(ANY_HOST) and pattern != ANY_HOST and not pattern.startswith("*.")):
            raise UsageError(f"allowed host {pattern!r}: give a name, an address, *.DOMAIN or *")
        if pattern.count(":") == 1:  # a port ("localhost:8000"); IPv6 addresses have several, in brackets
            raise UsageError(f"allowed host {pattern!r}: give the name without a port")
    return hosts


class HostGuard:
    """Pure ASGI: requests whose Host is not allowed get a 400 JSON error and never reach the app."""

    def __init__(self, app, allowed_hosts: Iterable[str]):
        async def passed(scope, receive, send):
            scope[_PASSED] = True
            await app(scope, receive, send)

        self.allowed_hosts = check_hosts(allowed_hosts)
        self.check = TrustedHostMiddleware(passed, allowed_hosts=self.allowed_hosts, www_redirect=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.check(scope, receive, send)
            return

        async def send_or_refuse(message):
            if scope.get(_PASSED):
                await send(message)
            elif message["type"] == "http.response.start":  # TrustedHostMiddleware's plain-text refusal
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff"),
                                        (b"content-length", str(len(refusal)).encode())]})
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await send({"type": "http.response.body", "body": refusal})

        host = Headers(scope=scope).get("host", "")
        refusal = json.dumps({"error": {"type": "HostNotAllowed", "message": (
            f"this server does not answer to the host {host[:100]!r}; open it by the address it was started on")}}).encode()
        await self.check(scope, receive, send_or_refuse)
