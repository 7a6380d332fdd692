"""Serves the single-page app: index.html with the import map inline and its hash in the CSP."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@lru_cache
def _index() -> tuple[str, str]:
    importmap = json.dumps(json.loads((STATIC_DIR / "vendor" / "importmap.json").read_text()))
    digest = base64.b64encode(hashlib.sha256(importmap.encode()).digest()).decode()
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8").replace("{{IMPORTMAP}}", importmap)
    return html, f"'sha256-{digest}'"


@router.get("/")
def index(request: Request) -> Response:
    html, script_hash = _index()
    request.state.csp_script_hashes = script_hash
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response((STATIC_DIR / "favicon.svg").read_bytes(), media_type="image/svg+xml")
