"""One pure ASGI middleware for every HTTP request: request id, demo header, latency metric, access log line.

Pure ASGI (not ``BaseHTTPMiddleware``) to keep the hot path lean. The log line has the route *template*
(``/v1/households/{household_id}``), never the concrete path, so no pseudonym reaches the log.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vroegsignaal.service.metrics import ServiceMetrics

REQUEST_ID_HEADER = "X-Request-ID"
DEMO_HEADER = "X-Vroegsignaal-Demo"
#: A request id a proxy sends along is kept only in the UUID form: any other value could be a BSN or a household's
#: pseudonym that a client put there, and the id is written to every log line.
_INCOMING_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

access_log = logging.getLogger("vroegsignaal.service.access")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, demo_state: Callable[[], str | None]) -> None:
        self.app = app
        self.metrics = metrics
        self.demo_state = demo_state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                demo = self.demo_state()
                if demo is not None:
                    headers[DEMO_HEADER] = demo
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe_request(method=scope["method"], route=route, status=status, seconds=elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d %.1fms request_id=%s", scope["method"], route, status, elapsed * 1000, request_id
                )
