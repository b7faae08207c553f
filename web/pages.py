"""The web page, the admin page, the iframe page, the widget and the API documentation.

Static files, no build step. ``/`` and ``/doc/{doc_id}`` serve the same page
(the script reads the path); ``/embed`` is the compact page for iframes;
``/widget.js`` is the one-tag widget for portals and ``/embed-resize.js`` the
script a portal adds to let the iframe set its own height; ``/admin`` adds and
removes documents through the write API.

``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) load their scripts from this
server, out of the ``fastapi-offline`` package (MIT; it ships Swagger UI,
Apache-2.0, and ReDoc, MIT), with no inline script: they work offline and
under the same content security policy as the search page.

An unknown address asked for by a browser (``Accept: text/html``, outside ``/api/``)
is answered with a page saying so, still a 404; any other client gets the API's JSON
error.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
GET_HEAD = ["GET", "HEAD"]

router = APIRouter(include_in_schema=False)


def _page(request: Request, embed: bool = False) -> HTMLResponse:
    # The search box's maxlength is the server's own limit, so a pasted query that is cut
    # is cut where the server would refuse it (the page says so).
    limit = request.app.state.engine.settings.max_query_chars
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    html = html.replace('maxlength="512"', f'maxlength="{limit}"')
    if embed:
        # The compact page: the same page, links opening outside the portal's frame.
        html = html.replace("<body>", '<body class="embed">', 1).replace(
            "<head>", '<head>\n  <base target="_blank">', 1
        )
    return HTMLResponse(html)


@router.api_route("/", methods=GET_HEAD)
async def index_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.api_route("/doc/{doc_id}", methods=GET_HEAD)
async def document_page(request: Request, doc_id: str) -> HTMLResponse:
    return _page(request)


@router.api_route("/embed", methods=GET_HEAD)
async def embed_page(request: Request) -> HTMLResponse:
    return _page(request, embed=True)


# Files served as they are: path -> (file in static/, media type).
FILES = {
    "/admin": ("admin.html", "text/html"),
    "/docs": ("docs.html", "text/html"),
    "/redoc": ("redoc.html", "text/html"),
    "/widget.js": ("widget.js", "text/javascript"),
    "/embed-resize.js": ("embed-resize.js", "text/javascript"),
    "/favicon.ico": ("favicon.ico", "image/x-icon"),
}


def _file_route(name: str, media_type: str) -> Callable[[], Awaitable[FileResponse]]:
    async def serve() -> FileResponse:
        return FileResponse(STATIC / name, media_type=media_type)

    return serve


for _path, (_name, _type) in FILES.items():
    router.add_api_route(_path, _file_route(_name, _type), methods=GET_HEAD)


def wants_page(request: Request) -> bool:
    """A browser navigating (it asks for HTML first), not an API client."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith("/api/")


def _not_found_handler(
    api_handler: Callable[[Request, Any], Any],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 404 and wants_page(request):
            html = (STATIC / "404.html").read_text(encoding="utf-8")
            return HTMLResponse(html, status_code=404)
        answer = api_handler(request, exc)
        response: Response = await answer if inspect.isawaitable(answer) else answer
        return response

    return not_found


def mount_pages(app: FastAPI) -> None:
    # A status handler comes before the class handler web.errors installed for
    # HTTPException; it hands every other 404 back to that one.
    api_handler = app.exception_handlers.get(HTTPException)
    if api_handler is not None:
        app.add_exception_handler(404, _not_found_handler(api_handler))
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
