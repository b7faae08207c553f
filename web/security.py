"""What stands between the internet and the API: keys, rate limits, body limits, headers.

One ASGI middleware (:class:`SecurityMiddleware`) does the checks that apply
to every request before any route code runs, so none of them can be
forgotten on a new route:

* request bodies past ``max_request_bytes`` get ``413`` (from the
  ``Content-Length`` header, or while the body streams in);
* an API key that is sent must be valid (``401``); with
  ``require_search_key`` the read API needs one;
* every read route that does real work is rate limited per key *and* client
  address (a portal's key gives each visitor address a budget of its own),
  or per address when no key is sent, by its cost counted in searches (an
  ask counts ``POLICY_SEARCH_ASK_COST``; ``429`` with ``Retry-After``); the
  buckets live in :mod:`web.ratelimit`, in a file shared by every worker
  when ``POLICY_SEARCH_RATE_LIMIT_FILE`` is set (``serve`` sets it), and
  counted responses carry the IETF draft's ``RateLimit-Policy`` and
  ``RateLimit`` headers;
* the client address is the connection's peer; ``X-Forwarded-For`` is
  believed only from ``POLICY_SEARCH_TRUSTED_PROXIES`` (none by default), so
  a client cannot choose its own rate bucket;
* responses carry security headers; HTML pages get a content security
  policy with no inline script, so text from documents can never run.

Write routes declare :func:`require_admin` as a dependency, which also puts
the two ways of sending a key into the OpenAPI schema.

Keys are compared in constant time (SHA-256 digests through
:func:`hmac.compare_digest`, every configured key every time) and never
logged or echoed: only a short digest prefix names a key's rate bucket.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policy_search.settings import Settings
from web.errors import ApiError, error_response, retry_after
from web.ratelimit import BucketStore, Decision, RateLimiter, SqliteBuckets

Role = Literal["admin", "search"]

PUBLIC_API_PATHS = ("/api/health",)
EMBED_PATHS = ("/embed",)

# Inline *styles* are allowed: widget.js styles its shadow root with a <style> element
# (also on our own widget demo page). Inline *script* is not, so markup that ever
# slipped into a page from document text could not run.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors {ancestors}"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class KeyStore:
    """The configured keys, as digests; :meth:`role` looks one up in constant time."""

    def __init__(self, settings: Settings) -> None:
        self._keys: list[tuple[bytes, Role]] = [
            (_digest(k.get_secret_value()), "admin") for k in settings.admin_keys
        ] + [(_digest(k.get_secret_value()), "search") for k in settings.search_keys]
        self.has_admin = bool(settings.admin_keys)

    def role(self, key: str) -> Role | None:
        given = _digest(key)
        found: Role | None = None
        # No early exit: the time taken does not depend on which key matched.
        for digest, role in self._keys:
            if hmac.compare_digest(given, digest) and (found is None or role == "admin"):
                found = role
        return found


def key_from_headers(headers: dict[str, str]) -> str | None:
    """The key sent as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` (lower-case names)."""
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


def key_bucket(key: str) -> str:
    """A name for a key's rate bucket that does not reveal the key."""
    return "key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def request_cost(method: str, path: str, settings: Settings) -> int:
    """What a request counts against its rate limit, in searches (0: not limited).

    Every read route that does real work is counted. Writes need an admin key
    and queue behind the writer lock; the health check and pages are free.
    """
    if method not in ("GET", "HEAD") or not path.startswith("/api/"):
        return 0
    if path == "/api/ask":
        return settings.ask_cost
    if path in ("/api/search", "/api/documents", "/api/stats", "/api/assignments"):
        return 1
    if path.startswith("/api/documents/"):
        return 2 if path.endswith("/related") else 1
    return 0


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IpAddress | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # "203.0.113.9:5000"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class ClientAddress:
    """The address a request counts under: its peer, or what a trusted proxy says it relays."""

    def __init__(self, trusted: list[str]) -> None:
        self.trusted = [ipaddress.ip_network(t, strict=False) for t in trusted]

    def _is_trusted(self, address: str) -> bool:
        ip = _address(address)
        return ip is not None and any(ip in net for net in self.trusted)

    def resolve(self, peer: str, forwarded_for: list[str]) -> str:
        """``peer`` unless it is a trusted proxy; then the nearest untrusted hop it names.

        Each proxy appends the address it got the request from to X-Forwarded-For,
        so only the right end, written by trusted proxies, can be believed: walk it
        from the right to the first hop that is not a trusted proxy.
        """
        if not self.trusted or not self._is_trusted(peer):
            return peer
        hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                ip = _address(hop)
                return str(ip) if ip is not None else hop[:64]
        return peer


class _BodyTooLarge(Exception):
    pass


# Names of the IETF draft's fields (draft-ietf-httpapi-ratelimit-headers-12), which browser
# code on another origin may read (CORS Access-Control-Expose-Headers, web/app.py).
RATE_LIMIT_HEADERS = ("RateLimit-Policy", "RateLimit", "Retry-After")
WINDOW_S = 60


def rate_limit_fields(policy: str, per_minute: int, decision: Decision) -> dict[str, str]:
    """``RateLimit-Policy`` and ``RateLimit`` for one take from a bucket.

    The policy's quota ``q`` is the bucket's size, refilled over the window
    ``w`` of 60 s; ``r`` is what is left now (whole units, never below 0) and
    ``t`` the seconds until the bucket is full again. A unit is one search:
    an ask takes ``POLICY_SEARCH_ASK_COST`` of them.
    """
    if math.isinf(decision.remaining):
        return {}  # not counted (a limiter that could not count): nothing to tell
    remaining = max(0, math.floor(decision.remaining))
    reset = max(0, math.ceil(decision.reset))
    return {
        "RateLimit-Policy": f'"{policy}";q={per_minute};w={WINDOW_S}',
        "RateLimit": f'"{policy}";r={remaining};t={reset}',
    }


def make_bucket_store(settings: Settings) -> BucketStore:
    """The buckets: a file every worker shares when one is set, else process memory."""
    if settings.rate_limit_file is not None:
        return SqliteBuckets(settings.rate_limit_file)
    return RateLimiter()


class SecurityMiddleware:
    def __init__(
        self, app: ASGIApp, settings: Settings, keys: KeyStore, limiter: BucketStore
    ) -> None:
        self.app = app
        self.settings = settings
        self.keys = keys
        self.limiter = limiter
        self.clients = ClientAddress(settings.trusted_proxies)
        ancestors = " ".join(["'self'", *settings.cors_origins])
        self._csp_page = STRICT_CSP.format(ancestors="'none'")
        self._csp_embed = STRICT_CSP.format(ancestors=ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        given = scope
        scope = self._from_proxy(scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = self.settings.max_request_bytes
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            send = self._with_headers(send, path, {})
            await self._reply(scope, send, 413, "request_too_large", self._too_large(int(length)))
            return
        fields: dict[str, str] = {}
        if path.startswith("/api/") and path not in PUBLIC_API_PATHS:
            refusal, fields = self._check_access(scope, headers, path)
            if refusal is not None:
                send = self._with_headers(send, path, fields)
                status, error, detail, extra = refusal
                await self._reply(scope, send, status, error, detail, extra)
                return
        send = self._with_headers(send, path, fields)

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._reply(scope, send, 413, "request_too_large", self._too_large(received))
        finally:
            # A proxied request runs in a copy of the scope: the route the router found is
            # handed back for the access log and metrics outside (web/requestlog.py).
            if scope is not given and "route" in scope:
                given["route"] = scope["route"]

    def _from_proxy(self, scope: Scope) -> Scope:
        """The scope with the client (and scheme) a trusted proxy relays; else unchanged."""
        client = scope.get("client")
        if not self.clients.trusted or not client:
            return scope
        raw = scope["headers"]
        forwarded = [v.decode("latin-1") for k, v in raw if k.lower() == b"x-forwarded-for"]
        address = self.clients.resolve(client[0], forwarded)
        if address == client[0]:
            return scope
        scope = {**scope, "client": (address, 0)}
        proto = next((v for k, v in raw if k.lower() == b"x-forwarded-proto"), b"")
        proto_name = proto.decode("latin-1").split(",")[-1].strip().lower()
        if proto_name in ("http", "https"):
            scope["scheme"] = proto_name
        return scope

    def _too_large(self, size: int) -> str:
        return (
            f"the request body is at least {size} bytes; the limit is "
            f"{self.settings.max_request_bytes} bytes (POLICY_SEARCH_MAX_REQUEST_BYTES)"
        )

    def _check_access(
        self, scope: Scope, headers: dict[str, str], path: str
    ) -> tuple[tuple[int, str, str, dict[str, str]] | None, dict[str, str]]:
        """(refusal or None, rate-limit fields for the response)."""
        key = key_from_headers(headers)
        role = self.keys.role(key) if key else None
        challenge = {"WWW-Authenticate": 'Bearer realm="policy-search"'}
        if key and role is None:
            return (401, "unauthorized", "the API key is not valid", challenge), {}
        method = scope.get("method", "GET")
        if self.settings.require_search_key and role is None and method in ("GET", "HEAD"):
            return (
                401,
                "unauthorized",
                "this service needs an API key for reads: send 'Authorization: Bearer KEY' "
                "or 'X-API-Key: KEY'",
                challenge,
            ), {}
        cost = request_cost(method, path, self.settings)
        if not cost:
            return None, {}
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if key and role is not None:
            # A portal's one key is sent by all its visitors: each address gets the key's
            # budget, so one visitor's burst does not use up another's.
            bucket, policy = f"{key_bucket(key)}@{address}", "key"
            per_minute = self.settings.rate_limit_per_key
            setting = "POLICY_SEARCH_RATE_LIMIT_PER_KEY"
        else:
            bucket, policy = "addr:" + address, "address"
            per_minute = self.settings.rate_limit_per_address
            setting = "POLICY_SEARCH_RATE_LIMIT_PER_ADDRESS"
        if per_minute <= 0:
            return None, {}
        # On the event loop, also for the shared file: a take is one short transaction
        # (tens of microseconds), cheaper than the hop to a thread would be.
        decision = self.limiter.take(bucket, per_minute, cost)
        fields = rate_limit_fields(policy, per_minute, decision)
        if decision.allowed:
            return None, fields
        retry = max(1, math.ceil(decision.wait))
        counts = "" if cost == 1 else f"; this request counts as {cost} searches"
        per = "for this key from one address" if policy == "key" else "from one address"
        return (
            429,
            "rate_limited",
            f"more than {per_minute} requests a minute {per} ({setting}{counts}); "
            f"retry in {retry} s",
            retry_after(retry),
        ), fields

    async def _reply(
        self,
        scope: Scope,
        send: Send,
        status: int,
        error: str,
        detail: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        await error_response(status, error, detail, extra)(scope, nothing, send)

    def _with_headers(self, send: Send, path: str, fields: dict[str, str]) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in fields.items()]
                names = {k.lower() for k, _ in headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                add = {
                    b"x-content-type-options": b"nosniff",
                    b"referrer-policy": b"strict-origin-when-cross-origin",
                }
                if ctype.startswith(b"text/html"):
                    # /docs and /redoc too: their scripts are served here (web/pages.py).
                    csp = self._csp_embed if path in EMBED_PATHS else self._csp_page
                    add[b"content-security-policy"] = csp.encode()
                    add[b"cross-origin-opener-policy"] = b"same-origin"
                    if path not in EMBED_PATHS:
                        add[b"x-frame-options"] = b"DENY"
                elif path.startswith("/api/"):
                    add[b"content-security-policy"] = API_CSP.encode()
                    add[b"cache-control"] = b"no-store"
                for k, v in add.items():
                    if k not in names:
                        headers.append((k, v))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


# --- write routes ---------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="An admin key: `Authorization: Bearer KEY`.")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An admin key in the X-API-Key header."
)


async def require_admin(
    request: Request,
    _bearer_key: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _header_key: Annotated[str | None, Depends(_api_key)],
) -> None:
    """Dependency for write routes: 401 without a valid key, 403 with a search key."""
    # The two schemes above put both ways of sending a key into the OpenAPI
    # schema; the key itself is read as the middleware reads it.
    keys: KeyStore = request.app.state.keys
    key = key_from_headers({k.lower(): v for k, v in request.headers.items()})
    challenge = {"WWW-Authenticate": 'Bearer realm="policy-search"'}
    if not key:
        raise ApiError(
            401,
            "unauthorized",
            "adding or removing documents needs an admin key: send 'Authorization: Bearer KEY' "
            "or 'X-API-Key: KEY' (keys come from POLICY_SEARCH_ADMIN_KEYS)",
            challenge,
        )
    role = keys.role(key)
    if role is None:
        raise ApiError(401, "unauthorized", "the API key is not valid", challenge)
    if role != "admin":
        raise ApiError(
            403, "forbidden", "this key may search but not add or remove documents (admin key)"
        )


def install_security(app: FastAPI, settings: Settings) -> None:
    """Keys, limits and headers for ``app``; call before adding CORS so CORS wraps it."""
    keys = KeyStore(settings)
    app.state.keys = keys
    # On app.state so that tests can move its clock instead of sleeping.
    app.state.rate_limiter = limiter = make_bucket_store(settings)
    app.add_middleware(SecurityMiddleware, settings=settings, keys=keys, limiter=limiter)


__all__ = [
    "RATE_LIMIT_HEADERS",
    "ClientAddress",
    "KeyStore",
    "RateLimiter",
    "SecurityMiddleware",
    "install_security",
    "key_from_headers",
    "request_cost",
    "require_admin",
]
