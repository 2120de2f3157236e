"""``/docs`` from files in a package, not a CDN: ``swagger-ui-py`` ships Swagger UI 5
(which reads FastAPI's OpenAPI 3.1), so the page works on a machine with no network.
FastAPI's own ``/docs`` loads the same files from jsDelivr and is blank offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def swagger_ui_files() -> Path:
    """The package's folder of Swagger UI files, found without importing the package
    (whose adapters import web frameworks we do not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (it is a dependency: pip install -e .)")
    return Path(spec.submodule_search_locations[0]) / "static"


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs``; create the app with ``docs_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_files()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )
