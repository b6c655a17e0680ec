"""The README's main job, end to end: synthetic municipality → trained model with card → service with a list."""

from __future__ import annotations

import datetime as dt
import re
import socket

import pytest
from typer.testing import CliRunner

from vroegsignaal.cli import app
from vroegsignaal.demo import score_requests
from vroegsignaal.schemas.api import ScoreBatchRequest
from vroegsignaal.training.synth import generate_municipality, write_municipality

pytestmark = pytest.mark.filterwarnings(
    # Third-party warnings raised inside MLflow (see tests/test_tracking.py), not by our code.
    "ignore:.*Any type hint is inferred as AnyType:UserWarning",
    "ignore:The ``noload`` loader strategy is deprecated",
    "ignore:Operation with range is deprecated:pandas.errors.Pandas4Warning",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_requests_are_valid_api_bodies_dated_up_to_today(tmp_path):
    write_municipality(generate_municipality(households=3_000, seed=5), tmp_path)
    today = dt.date(2026, 11, 25)
    bodies = list(score_requests(tmp_path, today=today))
    assert bodies
    for body in bodies:
        request = ScoreBatchRequest.model_validate(body)
        latest = max(s.signal_date for h in request.households for s in h.signals)
        assert latest <= today
        assert all(h.team in ("team-noord", "team-zuid") and h.neighbourhood for h in request.households)


@pytest.mark.slow
def test_demo_trains_a_carded_model_and_fills_the_service(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = CliRunner().invoke(
        app,
        ["demo", "--var", str(tmp_path / "var"), "--port", str(free_port()), "--no-serve"],
    )
    assert result.exit_code == 0, result.output
    cards = list((tmp_path / "var" / "models").glob("*/card/card.html"))
    assert len(cards) == 1
    assert str(cards[0]) in result.output  # on one line, however narrow the terminal: it is there to be copied
    listed = re.search(r"Households on the outreach lists: ([\d,]+)", result.output)
    assert listed and int(listed.group(1).replace(",", "")) > 0
    for role in ("caseworker", "data_scientist", "ethics_reviewer", "admin"):
        assert f"{role}: ey" in result.output
    assert (tmp_path / "var" / "demo" / "service.db").is_file()
    # The maintenance commands need the demo's database, which is not the default one: the summary says how.
    database = tmp_path / "var" / "demo" / "service.db"
    printed = " ".join(result.output.split())
    assert f"DATABASE_URL=sqlite:///{database} .venv/bin/vroegsignaal audit-verify" in printed
    # --no-serve stopped the service: no addresses that nothing answers at, but how to serve it again.
    assert "/health" not in printed and "The service was stopped (--no-serve)" in printed
    assert f"DATABASE_URL=sqlite:///{database} VROEGSIGNAAL_DEMO_MODE=true" in printed
    assert "Demo tokens (valid 12 hours" in result.output


def test_a_demo_on_a_port_in_use_stops_before_training_and_says_so(tmp_path):
    # It used to train, send its households to whatever answered on the port, print that server's URLs and tokens,
    # and exit 0.
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["demo", "--var", str(tmp_path / "var"), "--port", str(port), "--no-serve"])
    assert result.exit_code != 0
    assert f"--port: port {port} on 127.0.0.1 is in use" in " ".join(result.output.split())
    assert not (tmp_path / "var" / "models").exists()  # nothing trained
