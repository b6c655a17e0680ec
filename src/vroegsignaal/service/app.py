"""The app factory: ``create_app(settings=None, *, scorer=None)``.

The lifespan builds everything once — engine, token verifier, metrics, the served model — and keeps it on
``app.state.services``; routes reach it through dependencies. Tests pass their own settings and a fake scorer.
The HTML pages for people (``service/pages``) are part of the app unless ``pages=False``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter, FastAPI

from vroegsignaal.service.db import create_db_engine, create_session_factory
from vroegsignaal.service.http_errors import install_error_handlers
from vroegsignaal.service.metrics import ServiceMetrics
from vroegsignaal.service.middleware import RequestContextMiddleware
from vroegsignaal.service.pages import install_pages
from vroegsignaal.service.registry import alias_mirror
from vroegsignaal.service.routes import admin, households, models, objections, outreach, oversight, review_items, scores
from vroegsignaal.service.routes import system
from vroegsignaal.service.runtime import FeatureBuilder, ModelHolder, ScorerProtocol, default_feature_builder
from vroegsignaal.service.security import TokenVerifier
from vroegsignaal.service.serving import ScorerLoader, Services, default_scorer_loader, start_model, utc_now
from vroegsignaal.service.settings import Settings, get_settings
from vroegsignaal.service.versions import RegistryMirror

API_ROUTERS: tuple[APIRouter, ...] = (
    scores.router,
    outreach.router,
    review_items.router,
    households.router,
    objections.router,
    models.router,
    admin.router,
    oversight.router,
    system.router,
)

logger = logging.getLogger("vroegsignaal.service")


def _package_version() -> str:
    try:
        return version("vroegsignaal")
    except PackageNotFoundError:
        return "0+unknown"


DESCRIPTION = """
Risk scoring for proactive debt assistance (vroegsignalering van schulden). The model only orders the work and
explains itself; a caseworker decides. Every signal gets an offer, every action is in the hash-chained audit log.
Authenticate with a bearer token (JWT) carrying `sub`, `role` and, for caseworkers, `municipality` and `team`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    scorer: ScorerProtocol | None = None,
    feature_builder: FeatureBuilder | None = None,
    scorer_loader: ScorerLoader | None = None,
    registry_mirror: RegistryMirror | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    extra_routers: Sequence[APIRouter] = (),
    pages: bool = True,
) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings
        The settings; :func:`get_settings` (environment) when omitted.
    scorer
        A scorer to serve instead of loading one (tests, benchmarks). Its version is registered like any other
        and must be approved unless ``settings.demo_mode``.
    feature_builder, scorer_loader, registry_mirror, clock
        Replace the feature builder, how versions are loaded from their source URI, the MLflow alias mirror and the
        clock (tests).
    extra_routers
        More routers to include.
    pages
        Include the HTML pages and their static files (``service/pages``); the API works the same without them.
    """
    settings = settings or get_settings()
    metrics = ServiceMetrics()
    holder = ModelHolder()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.getLogger("vroegsignaal").setLevel(settings.log_level)
        engine = create_db_engine(
            settings.database_url, pool_size=settings.db_pool_size, connect_timeout=settings.db_connect_timeout_seconds,
            timeout_seconds=settings.db_timeout_seconds, pooler=settings.db_pooler,
        )
        services = Services(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            holder=holder,
            verifier=TokenVerifier(settings),
            metrics=metrics,
            build_features=feature_builder or default_feature_builder(),
            load_scorer=scorer_loader or default_scorer_loader(settings),
            injected=scorer,
            mirror=registry_mirror or (alias_mirror(settings.mlflow_tracking_uri) if settings.model_uri else None),
            clock=clock,
        )
        app.state.services = services
        if settings.retention_warning is not None:
            logger.warning("%s", settings.retention_warning)
        try:
            start_model(services)
            yield
        finally:
            services.queue_reader.close()
            engine.dispose()

    def demo_state() -> str | None:
        services: Services | None = getattr(app.state, "services", None)
        return services.demo_state() if services is not None else None

    docs_pages = settings.demo_mode if settings.api_docs_pages is None else settings.api_docs_pages
    app = FastAPI(
        title="Vroegsignaal",
        docs_url="/docs" if docs_pages else None,
        redoc_url="/redoc" if docs_pages else None,
        version=_package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, demo_state=demo_state)
    install_error_handlers(app)
    for router in (*API_ROUTERS, *extra_routers):
        app.include_router(router)
    if pages:
        install_pages(app)
    return app
