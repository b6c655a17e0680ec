"""The database connection dies or the database stops answering mid-request: no acknowledged decision is lost, no
half-written one remains, the service answers 503 while the database is down or silent (within the bound set by
``db_timeout_seconds``) and recovers by itself.

A tiny TCP proxy sits between the service and PostgreSQL. It can cut every connection the moment it sees chosen
bytes of the wire protocol (the decision's INSERT, or its COMMIT), or freeze there (every connection stays open and
nothing more is forwarded either way, as with a frozen database behind a live network), refuse new connections, and
come back.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tests.service.conftest import TODAY, TestClient, auth, batch, household, signal
from vroegsignaal.errors import NotFoundError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service import serving
from vroegsignaal.service.audit import AuditAction, verify_audit_log
from vroegsignaal.service.db import NoAnswerError, create_session_factory, transaction
from vroegsignaal.service.http_errors import MSG_DATABASE_UNAVAILABLE, install_error_handlers
from vroegsignaal.service.models import AuditRecord, Decision, ReviewItem

CASEWORKER = auth(Role.CASEWORKER)
#: ``db_timeout_seconds`` of the tests that let the database hang.
SHORT_TIMEOUT_SECONDS = 2
#: Generous: the request gives up after the timeout plus a few seconds; without a bound it would wait forever.
ANSWER_WITHIN_SECONDS = 15
T = TypeVar("T")
DECISION = {
    "end_result": "advice_quick_fix",
    "chosen_intensity": "letter",
    "contact_attempts": [{"kind": "phone", "reached": True, "attempted_on": TODAY.isoformat(), "part_of_day": "morning"}],
}


class CuttableProxy:
    """Forwards TCP to a target; :meth:`arm` cuts or freezes on given bytes, :meth:`thaw` ends a freeze, :meth:`down`
    and :meth:`up` stop and resume it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._markers: list[bytes] = []
        #: The connection the markers are being found on, once the first was.
        self._marked: socket.socket | None = None
        #: Server sockets whose answers are dropped (a cut after forwarding).
        self._muted: set[socket.socket] = set()
        self._cut_after_forwarding = False
        self._freeze = False
        #: Cleared while frozen: the pumps hold what they received (a close too) until it is set again.
        self._flowing = threading.Event()
        self._flowing.set()
        self._listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def down(self) -> None:
        """Refuse new connections and cut every open one."""
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close alone does not on Linux
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        self._cut_all()
        self.thaw()  # lets the pumps of the cut connections end

    def arm(self, *markers: bytes, after_forwarding: bool = False, freeze: bool = False) -> None:
        """Cut all connections once every marker was seen in order from the client (the last one forwarded first
        when ``after_forwarding``: the server gets the message, the client never gets the answer); with ``freeze``
        forward the last one and then stop forwarding anything, on every connection, until :meth:`thaw`."""
        with self._lock:
            self._markers = list(markers)
            self._marked = None
            self._cut_after_forwarding = after_forwarding
            self._freeze = freeze

    def thaw(self) -> None:
        """Forward again, starting with what arrived while frozen."""
        self._flowing.set()

    def _cut_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                self._flowing.wait()  # frozen: neither data nor a close goes on
                if not data:
                    return
                fire, after = (self._match(data, source) if from_client else (False, False))
                if not from_client and source in self._muted:
                    return  # the answer to the message forwarded last never reaches the client
                if fire and self._freeze:
                    sink.sendall(data)
                    self._flowing.clear()
                    continue
                if fire and after:
                    self._muted.add(sink)  # before forwarding: the server may answer at once
                    sink.sendall(data)
                    source.shutdown(socket.SHUT_RDWR)  # the server got the message; the client loses the answer
                    return
                if fire:
                    self._cut_all()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                sock.close()

    def _match(self, data: bytes, source: socket.socket) -> tuple[bool, bool]:
        """Consume the markers found in ``data``; fire (once) when the last one is consumed. Once a marker is
        consumed on a connection the rest must come on that one (another connection's COMMIT is not this one's)."""
        with self._lock:
            if not self._markers or self._marked not in (None, source):
                return False, False
            while self._markers and self._markers[0] in data:
                self._markers.pop(0)
                self._marked = source
            fire = not self._markers
            if fire:
                self._marked = None
            return fire, self._cut_after_forwarding


@pytest.fixture
def proxy(database_url: str) -> Iterator[CuttableProxy]:
    url = make_url(database_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy
    proxy.down()


def _answer_within(seconds: float, request: Callable[[], T]) -> T | None:
    """What ``request()`` returned, or ``None`` when it had not returned after ``seconds`` (a hang fails the test
    instead of the suite; the fixture's ``proxy.down()`` then ends the request)."""
    answers: list[T] = []
    thread = threading.Thread(target=lambda: answers.append(request()), daemon=True)
    thread.start()
    thread.join(seconds)
    return answers[0] if answers else None


def _counts(engine) -> tuple[int, int]:  # noqa: ANN001
    """Decisions and open items; and every decision kept has its audit record (one transaction holds both: a
    decision whose record was lost in a cut would still verify as a whole chain)."""
    with engine.connect() as connection:
        decisions = connection.execute(select(func.count()).select_from(Decision)).scalar_one()
        open_items = connection.execute(
            select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open")
        ).scalar_one()
        audited = connection.execute(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == AuditAction.DECISION)
        ).scalar_one()
    assert audited == decisions
    return decisions, open_items


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_connection_cut_mid_request_loses_nothing_acknowledged_and_recovers(make_client, engine, database_url, proxy):
    proxied = make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    client = make_client(database_url=proxied, db_connect_timeout_seconds=2)
    scored = client.post(
        "/v1/scores",
        json=batch(household("hh_outage_0000001", signal("s-1")), household("hh_outage_0000002", signal("s-2"))),
        headers=CASEWORKER,
    ).json()["results"]
    first, second = (r["review_item_id"] for r in scored)

    # 1. Cut while the decision is being written: 503, and nothing of it remains.
    proxy.arm(b"INSERT INTO decisions")
    cut = client.post(f"/v1/review-items/{first}/decisions", json=DECISION, headers=CASEWORKER)
    assert cut.status_code == 503 and cut.json()["detail"] == MSG_DATABASE_UNAVAILABLE
    assert _counts(engine) == (0, 2)

    # 2. While the database is unreachable every request is 503, readiness says why.
    proxy.down()
    assert client.post(f"/v1/review-items/{first}/decisions", json=DECISION, headers=CASEWORKER).status_code == 503
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json()["database"] is False

    # 3. Back up: the service recovers by itself and the retry is recorded once.
    proxy.up()
    acknowledged = client.post(f"/v1/review-items/{first}/decisions", json=DECISION, headers=CASEWORKER)
    assert acknowledged.status_code == 201
    assert _counts(engine) == (1, 1)

    # 4. Cut after the COMMIT reached the server but before the answer reached the service: the client sees 503,
    #    its retry finds the committed decision and gets it back instead of a duplicate.
    proxy.arm(b"INSERT INTO decisions", b"COMMIT", after_forwarding=True)
    in_doubt = client.post(f"/v1/review-items/{second}/decisions", json=DECISION, headers=CASEWORKER)
    assert in_doubt.status_code == 503
    retry = client.post(f"/v1/review-items/{second}/decisions", json=DECISION, headers=CASEWORKER)
    assert retry.status_code in (200, 201)
    assert _counts(engine) == (2, 0)

    # The acknowledged decision is still there, and the audit chain is whole.
    history = client.get("/v1/households/hh_outage_0000001", headers=CASEWORKER).json()
    assert [d["id"] for d in history["decisions"]] == [acknowledged.json()["id"]]
    with transaction(create_session_factory(engine)) as session:
        assert verify_audit_log(session).ok


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_that_freezes_mid_request_answers_503_in_bounded_time_and_recovers(
    make_client, engine, database_url, proxy
):
    proxied = make_url(database_url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    client = make_client(database_url=proxied, db_connect_timeout_seconds=2, db_timeout_seconds=SHORT_TIMEOUT_SECONDS)
    scored = client.post("/v1/scores", json=batch(household("hh_freeze_0000001", signal("s-1"))), headers=CASEWORKER)
    item = scored.json()["results"][0]["review_item_id"]

    # The decision's INSERT reaches the server, then nothing moves any more, either way: not its answer, not a close.
    # The TCP connection stays up, so only the service's own deadline can end the wait.
    proxy.arm(b"INSERT INTO decisions", freeze=True)
    frozen = _answer_within(
        ANSWER_WITHIN_SECONDS,
        lambda: client.post(f"/v1/review-items/{item}/decisions", json=DECISION, headers=CASEWORKER),
    )
    assert frozen is not None, f"no answer within {ANSWER_WITHIN_SECONDS} s while the database was frozen"
    assert (frozen.status_code, frozen.json()["detail"]) == (503, MSG_DATABASE_UNAVAILABLE)
    assert _counts(engine) == (0, 1)

    # The database wakes up: the service answers again by itself, and the retry is recorded once.
    proxy.thaw()
    assert client.get("/ready").status_code == 200
    retry = client.post(f"/v1/review-items/{item}/decisions", json=DECISION, headers=CASEWORKER)
    assert retry.status_code == 201
    assert _counts(engine) == (1, 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_decision_waiting_on_a_lock_held_by_a_stuck_transaction_answers_503_naming_the_setting(
    make_client, engine, caplog
):
    client = make_client(db_timeout_seconds=SHORT_TIMEOUT_SECONDS)
    scored = client.post("/v1/scores", json=batch(household("hh_locked_0000001", signal("s-1"))), headers=CASEWORKER)
    item = scored.json()["results"][0]["review_item_id"]

    with engine.begin() as stuck, caplog.at_level(logging.WARNING, logger="vroegsignaal.service"):
        stuck.execute(select(ReviewItem.id).where(ReviewItem.id == item).with_for_update())
        blocked = _answer_within(
            ANSWER_WITHIN_SECONDS,
            lambda: client.post(f"/v1/review-items/{item}/decisions", json=DECISION, headers=CASEWORKER),
        )
    assert blocked is not None, f"no answer within {ANSWER_WITHIN_SECONDS} s while the lock was held"
    assert (blocked.status_code, blocked.json()["detail"]) == (503, MSG_DATABASE_UNAVAILABLE)
    assert "VROEGSIGNAAL_DB_TIMEOUT_SECONDS" in caplog.text
    assert _counts(engine) == (0, 1)
    # The stuck transaction is gone: the same request goes through.
    assert client.post(f"/v1/review-items/{item}/decisions", json=DECISION, headers=CASEWORKER).status_code == 201


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_registry_slower_than_the_timeout_does_not_stop_the_service_from_starting(make_client, monkeypatch):
    # The registry is looked up before the registration's transaction opens: a transaction waiting for it would be
    # ended by PostgreSQL's idle-in-transaction timeout, and the start with it.
    def slow_then_missing(uri: str, *, tracking_uri: str | None) -> str:
        time.sleep(SHORT_TIMEOUT_SECONDS + 1)
        raise NotFoundError("registered model has no alias 'champion'")

    monkeypatch.setattr(serving, "resolve_registry_version", slow_then_missing)
    client = make_client(db_timeout_seconds=SHORT_TIMEOUT_SECONDS, model_uri="models:/vroegsignaal@champion")
    assert client.get("/health").status_code == 200
    assert client.post("/v1/models/discover", headers=auth(Role.ADMIN)).status_code == 200


class _ServerError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("canceling statement")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error",
    [
        DBAPIError("UPDATE ...", {}, _ServerError("57014")),  # statement_timeout
        DBAPIError("SELECT ... FOR UPDATE", {}, _ServerError("55P03")),  # lock_timeout
        DBAPIError("INSERT ...", {}, _ServerError("25P03")),  # idle_in_transaction_session_timeout
        DBAPIError("SELECT 1", {}, NoAnswerError("no answer")),  # the service's own deadline
        PoolTimeoutError("QueuePool limit reached"),  # every pooled connection busy for the timeout
    ],
    ids=["statement", "lock", "idle-in-transaction", "no-answer", "pool"],
)
def test_a_database_timeout_is_an_outage_to_retry_not_a_conflict(error: Exception):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    def slow() -> None:
        raise error

    with TestClient(app) as test_client:
        answer = test_client.get("/slow")
    assert (answer.status_code, answer.json()["detail"]) == (503, MSG_DATABASE_UNAVAILABLE)
    assert answer.headers["Retry-After"]
