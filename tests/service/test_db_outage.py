"""The database connection dies mid-request: no acknowledged decision is lost, no half-written one remains, the
service answers 503 while the database is down and recovers by itself.

A tiny TCP proxy sits between the service and PostgreSQL. It can cut every connection the moment it sees chosen
bytes of the wire protocol (the decision's INSERT, or its COMMIT), refuse new connections, and come back.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.service.conftest import TODAY, auth, batch, household, signal
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.audit import verify_audit_log
from vroegsignaal.service.db import create_session_factory, transaction
from vroegsignaal.service.http_errors import MSG_DATABASE_UNAVAILABLE
from vroegsignaal.service.models import Decision, ReviewItem

CASEWORKER = auth(Role.CASEWORKER)
DECISION = {
    "end_result": "advice_quick_fix",
    "chosen_intensity": "letter",
    "contact_attempts": [{"kind": "phone", "reached": True, "attempted_on": TODAY.isoformat(), "part_of_day": "morning"}],
}


class CuttableProxy:
    """Forwards TCP to a target; :meth:`arm` cuts on given bytes, :meth:`down` and :meth:`up` stop and resume it."""

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

    def arm(self, *markers: bytes, after_forwarding: bool = False) -> None:
        """Cut all connections once every marker was seen in order from the client (the last one forwarded first
        when ``after_forwarding``: the server gets the message, the client never gets the answer)."""
        with self._lock:
            self._markers = list(markers)
            self._marked = None
            self._cut_after_forwarding = after_forwarding

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
            while data := source.recv(65536):
                fire, after = (self._match(data, source) if from_client else (False, False))
                if not from_client and source in self._muted:
                    return  # the answer to the message forwarded last never reaches the client
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


def _counts(engine) -> tuple[int, int]:  # noqa: ANN001
    with engine.connect() as connection:
        decisions = connection.execute(select(func.count()).select_from(Decision)).scalar_one()
        open_items = connection.execute(
            select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "open")
        ).scalar_one()
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
