"""``HEAD`` wherever ``GET`` is served: the GET route runs and its body is dropped.

FastAPI routes answer only the methods they name, so ``HEAD /api/health``
(what load balancers and uptime checks send) was 405. This layer turns a HEAD
into a GET for everything inside it and sends the GET's status and headers
(``Content-Length`` included, as RFC 9110 allows) without the body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # A copy: the server reads the request's method from its own scope to know
        # that no body may follow.
        inner = {**scope, "method": "GET"}

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the last (empty) part ends the response
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(inner, receive, without_body)
        finally:
            if "route" in inner:  # for the access log and metrics outside
                scope["route"] = inner["route"]


__all__ = ["HeadAsGetMiddleware"]
