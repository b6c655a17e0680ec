"""Scoring: POST a batch of households, get scores, reasons, flags and review items back.

The endpoint is ``async`` and hands the transaction to :func:`~vroegsignaal.service.db.run_write`: a small batch on
SQLite is scored right on the event loop when the write lock is free (the hop to a worker thread and back cost
~0.3 ms at concurrency 1 here, as much as scoring the household), everything else runs on the thread pool. Always
running inline was measured too and refused: on PostgreSQL, a municipality's production database, it serialises
every network wait (117 against 167 requests/s at concurrency 8), and a large batch would block the loop for
seconds.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, Response

from vroegsignaal.schemas.api import ErrorResponse, ScoreBatchRequest, ScoreBatchResponse
from vroegsignaal.service.db import run_write
from vroegsignaal.service.deps import ScoringCaller, ServicesDep
from vroegsignaal.service.http_errors import MSG_BATCH_TOO_LARGE, BatchTooLargeError
from vroegsignaal.service.scores import ScoringContext, score_batch

router = APIRouter(prefix="/v1/scores", tags=["scores"])

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,128}$"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Batches up to this size may be scored on the event loop (a single household takes ~1 ms in all, each further
#: one well under that: other requests wait a few milliseconds at most).
INLINE_MAX_HOUSEHOLDS = 4


@router.post(
    "",
    response_model=ScoreBatchResponse,
    responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def create_scores(
    request: ScoreBatchRequest,
    caller: ScoringCaller,
    services: ServicesDep,
    idempotency_key: Annotated[
        str | None,
        Header(pattern=IDEMPOTENCY_KEY_PATTERN, description="Retry-safe key: a retry returns the stored response."),
    ] = None,
) -> Response:
    """Score, explain and queue a batch of households. Roles: caseworker, admin (scoped to their municipality).

    Every household becomes (or updates) an open review item: no signal is dropped. Households that objected are
    recorded but not scored. The whole batch is saved in one transaction.
    """
    limit = services.settings.max_batch_size
    if len(request.households) > limit:
        raise BatchTooLargeError(MSG_BATCH_TOO_LARGE.format(count=len(request.households), limit=limit))
    model = services.holder.current  # taken once: a reload meanwhile does not change this request's version
    context = ScoringContext(
        settings=services.settings,
        model=model,
        build_features=services.build_features,
        now=services.now(),
    )
    # score_batch runs its own Core transaction on the engine (no SessionDep: a generator dependency and an
    # ORM session would cost ~90 µs a request for nothing it uses).
    work = partial(
        score_batch,
        services.engine,
        request=request,
        caller=caller,
        context=context,
        idempotency_key=idempotency_key,
    )
    scored = await run_write(services.engine, work, short=len(request.households) <= INLINE_MAX_HOUSEHOLDS)
    if not scored.replayed:
        services.metrics.count_scores(scored.bands)
    # score_batch built the response model from validated parts, so it is serialised as it is: letting
    # FastAPI validate it again against ``response_model`` (which still documents it) would cost a second pass.
    return Response(
        scored.response.model_dump_json(),
        media_type="application/json",
        headers={REPLAYED_HEADER: "true"} if scored.replayed else None,
    )
