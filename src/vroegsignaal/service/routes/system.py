"""Health, readiness and Prometheus metrics (no authentication: they reveal no household data)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from vroegsignaal.schemas.api import HealthResponse, ReadyResponse
from vroegsignaal.schemas.enums import ModelStatus
from vroegsignaal.service.db import database_reachable
from vroegsignaal.service.deps import ServicesDep
from vroegsignaal.service.serving import served_status

router = APIRouter(tags=["system"])


@router.get("/health", response_model=HealthResponse)
async def health() -> HealthResponse:
    """The process is up."""
    return HealthResponse(status="ok")


@router.get("/ready", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}})
def ready(services: ServicesDep) -> JSONResponse:
    """Ready when the database answers and a model is loaded that was not rejected since (503 otherwise)."""
    model = services.holder.current
    database = database_reachable(services.engine)
    status = None
    if database:
        try:
            status = served_status(services)
        except SQLAlchemyError:  # the database stopped answering, or the pool has no connection free
            database = False
    usable = model is not None and status is not ModelStatus.REJECTED
    body = ReadyResponse(
        ready=database and usable, database=database, model_loaded=model is not None,
        model_version=model.version if model else None, model_status=status.value if status else None,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


#: How long a scrape waits for the database's numbers (backlog, overdue, model status). Prometheus gives a scrape
#: 10 s by default: a database that does not answer must not take the latency and error metrics down with it.
QUEUE_METRICS_TIMEOUT_SECONDS = 3.0


@router.get("/metrics", response_class=Response)
def metrics(services: ServicesDep) -> Response:
    """Prometheus exposition: request latency, scores per band, backlog, overdue, model version. The numbers the
    database holds are read within :data:`QUEUE_METRICS_TIMEOUT_SECONDS`, or left out (``queue_metrics_up`` 0)."""
    counts = services.queue_reader.read(services, timeout=QUEUE_METRICS_TIMEOUT_SECONDS)
    services.metrics.set_queue(counts)
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
