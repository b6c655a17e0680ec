"""Pages for people: the caseworker's outreach list and household pages, the objections register, and the model,
comparison and oversight pages for the ethics committee — server-rendered (Jinja2) by the same FastAPI app as the
API.

The pages are a second face of the same service: each route calls the domain function of its API endpoint, under the
same roles (``service.deps``) and the same municipality scope, with a session cookie instead of the Authorization
header (see :mod:`.session`). Dutch by default, English one click away (:mod:`.i18n`). Every page works without
JavaScript and without a network: the stylesheet and the one small script are served from ``service/static``.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from vroegsignaal.service.pages import auth, caseworker, models, oversight
from vroegsignaal.service.pages.routing import error_page

STATIC_PATH = "/static"
ROUTERS = (auth.router, caseworker.router, models.router, oversight.router)


def install_pages(app: FastAPI) -> None:
    """Add the pages and their static files to ``app`` (``create_app`` does this unless told not to)."""
    for router in ROUTERS:
        app.include_router(router)
    folder = resources.files("vroegsignaal.service").joinpath("static")
    app.mount(STATIC_PATH, StaticFiles(directory=str(folder)), name="static")
    # An address that is no page (a mistyped link, GET on a form's address) answers with the error page.
    app.state.html_error_page = error_page
