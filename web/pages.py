"""The web page, the iframe page and the embeddable widget: static files, no build step.

``/`` and ``/doc/{doc_id}`` serve the same page (the script reads the path);
``/embed`` is the compact page for iframes; ``/widget.js`` is the one-tag
widget for portals.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/doc/{doc_id}")
async def document_page(doc_id: str) -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/embed")
async def embed_page() -> FileResponse:
    return FileResponse(STATIC / "embed.html", media_type="text/html")


@router.get("/widget.js")
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


def mount_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
