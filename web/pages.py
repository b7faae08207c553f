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
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

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


@router.api_route("/admin", methods=GET_HEAD)
async def admin_page() -> FileResponse:
    return FileResponse(STATIC / "admin.html", media_type="text/html")


@router.api_route("/docs", methods=GET_HEAD)
async def swagger_page() -> FileResponse:
    return FileResponse(STATIC / "docs.html", media_type="text/html")


@router.api_route("/redoc", methods=GET_HEAD)
async def redoc_page() -> FileResponse:
    return FileResponse(STATIC / "redoc.html", media_type="text/html")


@router.api_route("/widget.js", methods=GET_HEAD)
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


@router.api_route("/embed-resize.js", methods=GET_HEAD)
async def embed_resize() -> FileResponse:
    return FileResponse(STATIC / "embed-resize.js", media_type="text/javascript")


@router.api_route("/favicon.ico", methods=GET_HEAD)
async def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")


def mount_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
