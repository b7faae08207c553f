"""Logs as JSON lines, one access line per request with its id, and an audit line per write.

* Every log line of the server (ours, uvicorn's, errors with their traceback)
  is one JSON object: ``ts``, ``level``, ``logger``, ``message``, the
  ``request_id`` of the request it belongs to, and the line's own fields.
  :func:`log_config` is the configuration ``serve`` hands uvicorn.
* **Request id.** Taken from ``X-Request-ID`` when it is a sane token (so a
  proxy's id follows the request), else generated; echoed in the response's
  ``X-Request-ID`` and on every line logged while the request runs.
* **Access line** (logger ``policy-search.access``): method, path, the query
  string, status, seconds, client. It replaces uvicorn's access log, which
  wrote the raw query string, so a key sent as ``?api_key=`` (refused, but
  sent) ended up in the log. Here the value of every parameter that may hold
  a secret is replaced by ``[redacted]``, and every line goes through
  :func:`redact` as a last guard.
* **Audit line** (logger ``policy-search.audit``) for every
  ``POST /api/documents`` and ``DELETE /api/documents/{id}``, whatever its
  outcome: the key's id (a hash prefix, :func:`web.security.key_bucket`;
  never the key), the files and what became of each, the status.
* ``POLICY_SEARCH_LOG_PERSONAL_DATA=false`` leaves query text (every value of
  the query string) and client addresses out of every line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.metrics import Metrics
from web.openapi import all_routes
from web.security import ClientAddress, key_bucket, key_from_headers

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
ACCESS = logging.getLogger("policy-search.access")
AUDIT = logging.getLogger("policy-search.audit")
_VALID_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# Query parameters whose value is never logged.
_SECRET_PARAMS = re.compile(r"(?i)(key|token|secret|password|passwd|signature|auth)")
# The last guard, on every message: "api_key=…", "token: …", "Bearer …".
_SECRET_TEXT = re.compile(
    r"(?i)((?:api[_-]?key|access[_-]?token|token|secret|password)[\"']?\s*[=:]\s*[\"']?)"
    r"[^&\s\"',;]+|(bearer\s+)[^\s\"',;]+"
)
REDACTED = "[redacted]"
# Only these bodies are read, for the audit line; at most this many bytes of each.
_AUDIT_BODY_BYTES = 256 * 1024


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``."""
    return _SECRET_TEXT.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = redact("".join(traceback.format_exception(*record.exc_info)))
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server: every logger as JSON on stderr.

    uvicorn's access logger is silenced (``serve`` also turns it off): the
    access line is ours.
    """
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            # To the root's handler (and to pytest's caplog, which listens there).
            "policy-search": {"level": upper},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def _request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _VALID_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def _query(raw: bytes, personal: bool) -> str:
    if not raw:
        return ""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    kept = [
        (name, REDACTED if (not personal or _SECRET_PARAMS.search(name)) else value)
        for name, value in pairs
    ]
    return urlencode(kept, safe="[]/:,")


def _audit_action(method: str, path: str) -> str | None:
    if method == "POST" and path.rstrip("/") == "/api/documents":
        return "upload"
    if method == "DELETE" and path.startswith("/api/documents/"):
        return "delete"
    return None


class RequestLogMiddleware:
    """The outermost layer: request id, access and audit lines, request metrics."""

    def __init__(
        self,
        app: ASGIApp,
        personal_data: bool,
        trusted_proxies: list[str],
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.personal = personal_data
        self.clients = ClientAddress(trusted_proxies)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]  # before HEAD is served as GET
        path: str = scope.get("path", "")
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        request_id = _request_id(headers)
        token = REQUEST_ID.set(request_id)
        action = _audit_action(method, path)
        status = 500
        body = bytearray()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                kept = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                kept.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": kept}
            elif action and message["type"] == "http.response.body":
                room = _AUDIT_BODY_BYTES - len(body)
                if room > 0:
                    body.extend(message.get("body", b"")[:room])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = self._route(scope)
            try:
                self.metrics.observe_request(route, method, status, seconds)
                app = scope.get("app")
                if app is not None:
                    self.metrics.sync(app)
            finally:
                self._access(scope, method, path, route, status, seconds)
                if action:
                    self._audit(scope, action, path, status, bytes(body))
                REQUEST_ID.reset(token)

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        found = getattr(route, "path", None)
        if isinstance(found, str):
            return found
        # No route ran (404, 405, a refusal before routing), or a middleware that
        # copied the scope (a trusted proxy's client) hid it: match the template here.
        app = scope.get("app")
        probe = {**scope, "method": "GET"} if scope.get("method") == "HEAD" else scope
        partial = None
        for candidate in all_routes(app) if isinstance(app, FastAPI) else []:
            match, child = candidate.matches(probe)
            path = getattr(child.get("route", candidate), "path", None)
            if match == Match.FULL and isinstance(path, str):
                return path or "/"
            if match == Match.PARTIAL and partial is None and isinstance(path, str):
                partial = path
        return partial or "unmatched"

    def _client(self, scope: Scope) -> str | None:
        if not self.personal:
            return None
        client = scope.get("client")
        if not client:
            return None
        forwarded = [
            v.decode("latin-1")
            for k, v in scope.get("headers", [])
            if k.lower() == b"x-forwarded-for"
        ]
        return self.clients.resolve(str(client[0]), forwarded)

    def _access(
        self, scope: Scope, method: str, path: str, route: str, status: int, seconds: float
    ) -> None:
        fields: dict[str, Any] = {
            "event": "access",
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "seconds": round(seconds, 4),
        }
        query = _query(scope.get("query_string", b""), self.personal)
        if query:
            fields["query"] = query
        client = self._client(scope)
        if client:
            fields["client"] = client
        ACCESS.info("%s %s %d", method, path, status, extra={"fields": fields})

    def _audit(self, scope: Scope, action: str, path: str, status: int, body: bytes) -> None:
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        key = key_from_headers(headers)
        fields: dict[str, Any] = {
            "event": "audit",
            "action": action,
            "key_id": key_bucket(key).removeprefix("key:") if key else None,
            "status": status,
        }
        try:
            reply = json.loads(body) if body else {}
        except ValueError:
            reply = {}
        if not isinstance(reply, dict):
            reply = {}
        if action == "delete":
            fields["doc_id"] = path.removeprefix("/api/documents/")
        files = reply.get("files")
        if isinstance(files, list):
            fields["files"] = [
                {
                    "filename": f.get("filename"),
                    "status": f.get("status"),
                    "doc_id": f.get("doc_id"),
                }
                for f in files
                if isinstance(f, dict)
            ]
        if "task_id" in reply:
            fields["task_id"] = reply["task_id"]
        if "index_version" in reply:
            fields["index_version"] = reply["index_version"]
        fields["result"] = (
            "ok" if 200 <= status < 300 else str(reply.get("error") or f"http {status}")
        )
        client = self._client(scope)
        if client:
            fields["client"] = client
        AUDIT.info(
            "%s %s by %s: %s",
            action,
            path,
            fields["key_id"] or "no key",
            fields["result"],
            extra={"fields": fields},
        )


__all__ = ["JsonFormatter", "RequestLogMiddleware", "log_config", "redact"]
