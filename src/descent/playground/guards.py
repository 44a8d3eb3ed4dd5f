"""What every request passes before it reaches an endpoint: its size, its JSON's depth,
its Host header; and the headers every answer carries.

A pure ASGI middleware, so the body is counted as it arrives (a client that lies in
Content-Length, or sends none, is still cut off at the limit).
"""

from __future__ import annotations

import json
import re

MAX_BODY_BYTES = 1 << 20
"""The largest request body (a CSV upload is the only big one): 1 MiB."""

MAX_JSON_DEPTH = 32
"""The deepest nesting a JSON body may have (the API's own bodies use 3)."""

MAX_BODY_MESSAGES = 4096
"""The most pieces a body may arrive in. A 1 MiB upload over a slow link comes in a few
hundred; a client sending it a byte at a time would keep the server busy for nothing."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

# A Host header is a name or an IPv4 address, or an IPv6 address in brackets, then an
# optional :port, and nothing else ("localhost:1@evil.com" and "[::1]evil" are not hosts).
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::[0-9]{1,5})?")

# The page is ours alone: no script, style or connection to any other origin.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; "
     b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def json_depth(raw: bytes) -> int:
    """How deeply ``raw`` (JSON text) nests arrays and objects, brackets in strings ignored.

    Counted without parsing, so a body of a million ``[`` costs one linear pass, never a
    recursion.

    Example:
        >>> json_depth(b'{"a": [1, [2, "]]]"]]}')
        3
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def host_name(headers: list[tuple[bytes, bytes]]) -> str:
    """The name in the Host header, without its port; "" when it is missing or malformed.

    Example:
        >>> host_name([(b"host", b"LocalHost:8765")]), host_name([(b"host", b"[::1]:80")])
        ('localhost', '[::1]')
        >>> host_name([(b"host", b"localhost:1@evil.com")]), host_name([(b"host", b"[::1]x")])
        ('', '')
    """
    for name, value in headers:
        if name == b"host":
            match = _HOST.fullmatch(value.decode("latin-1").strip().lower())
            return match.group(1) if match else ""
    return ""


def _wants_depth_check(headers: list[tuple[bytes, bytes]]) -> bool:
    # FastAPI reads a body as JSON when its type says JSON (any case, "+json" too) and
    # when it has no type at all; those are the bodies whose depth matters.
    content_type = next((v for k, v in headers if k == b"content-type"), None)
    return content_type is None or b"json" in content_type.lower()


async def _reply(send, status: int, message: str, field: str | None = None) -> None:
    body = json.dumps({"error": message, "field": field}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: bounded bodies, bounded JSON depth, known Host, safe headers.

    ``allowed_hosts`` None accepts any Host (a server bound beyond loopback on purpose);
    otherwise a request naming another host is refused, which stops a web page elsewhere
    from reaching this server through DNS rebinding.
    """

    def __init__(self, app, allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS,
                 max_body: int = MAX_BODY_BYTES):
        self.app, self.allowed_hosts, self.max_body = app, allowed_hosts, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if self.allowed_hosts is not None and host_name(headers) not in self.allowed_hosts:
            await _reply(send, 421, "this server answers only to "
                         f"{', '.join(self.allowed_hosts)}; open the address it printed")
            return
        declared = next((v for k, v in headers if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _reply(send, 413, f"the request body is over {self.max_body:,} bytes; "
                         "send a smaller one")
            return
        body = b""
        if scope["method"] in ("POST", "PUT", "PATCH"):
            chunks: list[bytes] = []  # joined once: `body += chunk` is quadratic
            size, more = 0, True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                chunks.append(chunk)
                size += len(chunk)
                more = message.get("more_body", False)
                if size > self.max_body:
                    await _reply(send, 413, f"the request body is over {self.max_body:,} "
                                 "bytes; send a smaller one")
                    return
                if more and len(chunks) >= MAX_BODY_MESSAGES:
                    await _reply(send, 400, f"the request body came in over "
                                 f"{MAX_BODY_MESSAGES:,} pieces; send it in fewer, larger ones")
                    return
            body = b"".join(chunks)
            if _wants_depth_check(headers) and json_depth(body) > MAX_JSON_DEPTH:
                await _reply(send, 422, f"the JSON body nests more than {MAX_JSON_DEPTH} "
                             "levels deep; the API's bodies need 3")
                return

        replayed = False

        async def replay():
            nonlocal replayed
            if scope["method"] in ("POST", "PUT", "PATCH") and not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, replay, send_with_headers)
