"""Settings refuse unsafe values; tokens are verified with HS256 or RS256 (JWKS) and describe the caller."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.service.conftest import forged_token
from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.security import (
    MSG_CLAIM_REQUIRED,
    MSG_EXPIRED_TOKEN,
    VERIFIED_TOKENS_KEPT,
    ExpiredTokenError,
    InvalidTokenError,
    TokenVerifier,
    issue_demo_tokens,
    issue_token,
)
from vroegsignaal.service.settings import MSG_DEMO_CONTROL_KEY, MSG_DEMO_SECRET, build_settings

SECRET = "unit-secret-of-at-least-thirty-two-chars"
ROOT = Path(__file__).resolve().parents[2]


def test_demo_secret_is_refused_outside_demo_mode():
    with pytest.raises(ConfigError, match=re.escape(MSG_DEMO_SECRET.split(";")[0])):
        build_settings(control_sample_key="k")


def test_demo_control_key_is_refused_outside_demo_mode():
    with pytest.raises(ConfigError, match=re.escape(MSG_DEMO_CONTROL_KEY.split(";")[0])):
        build_settings(jwt_secret=SECRET)


def test_the_placeholders_of_the_env_example_are_refused_outside_demo_mode():
    # A copy of docker/.env.example with a value left as it is would run on a secret published in the repository.
    example = dict(
        line.split("=", 1)
        for line in (ROOT / "docker" / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    secret, key = example["VROEGSIGNAAL_JWT_SECRET"], example["VROEGSIGNAAL_CONTROL_SAMPLE_KEY"]
    with pytest.raises(ConfigError, match=re.escape(MSG_DEMO_SECRET.split(";")[0])):
        build_settings(jwt_secret=secret, control_sample_key="a-key-of-our-own")
    with pytest.raises(ConfigError, match=re.escape(MSG_DEMO_CONTROL_KEY.split(";")[0])):
        build_settings(jwt_secret=SECRET, control_sample_key=key)
    assert build_settings(jwt_secret=secret, control_sample_key=key, demo_mode=True).demo_mode
    assert build_settings(jwt_secret=SECRET, control_sample_key="a-key-of-our-own").jwt_algorithm == "HS256"


def test_maintenance_commands_need_no_signing_secret(tmp_path, monkeypatch):
    """Migrating, verifying the audit log, purging and exporting sign no token and draw no control sample: they
    stopped with "jwt_secret is a published value" unless run in demo mode or handed the key that signs tokens for
    any role. The service itself still refuses the published secrets."""
    from typer.testing import CliRunner

    from vroegsignaal.cli import app
    from vroegsignaal.service.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'service.db'}")
    monkeypatch.delenv("VROEGSIGNAAL_DEMO_MODE", raising=False)
    monkeypatch.delenv("VROEGSIGNAAL_JWT_SECRET", raising=False)
    monkeypatch.delenv("VROEGSIGNAAL_CONTROL_SAMPLE_KEY", raising=False)
    assert build_settings(maintenance=True).jwt_algorithm == "HS256"
    runner = CliRunner()
    for command in (["db", "upgrade"], ["audit-verify"], ["purge"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match=re.escape(MSG_DEMO_SECRET.split(";")[0])):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_demo_mode_accepts_the_demo_secrets_and_issues_a_token_per_role():
    settings = build_settings(demo_mode=True)
    verifier = TokenVerifier(settings)
    callers = {role: verifier.verify(token) for role, token in issue_demo_tokens(settings).items()}
    assert callers[Role.CASEWORKER].team and callers[Role.CASEWORKER].municipality == "GM0344"
    assert {caller.role for caller in callers.values()} == set(Role)


def test_settings_are_read_from_the_environment_only_when_built(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    assert build_settings().database_url == "sqlite:///elsewhere.db"


def test_db_timeout_is_read_from_the_environment_and_refused_out_of_bounds(monkeypatch):
    monkeypatch.setenv("VROEGSIGNAAL_DEMO_MODE", "true")
    monkeypatch.setenv("VROEGSIGNAAL_DB_TIMEOUT_SECONDS", "12")
    assert build_settings().db_timeout_seconds == 12
    with pytest.raises(ConfigError, match="db_timeout_seconds"):
        build_settings(db_timeout_seconds=0)


def _rsa_settings(tmp_path):  # noqa: ANN001, ANN202
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    settings = build_settings(jwt_algorithm="RS256", jwt_jwks_path=path, control_sample_key="k")
    return settings, private


def _claims(**extra):  # noqa: ANN003, ANN202
    now = dt.datetime.now(dt.UTC)
    return {"sub": "u1", "role": "caseworker", "municipality": "GM0344", "team": "t1", "iss": "vroegsignaal",
            "aud": "vroegsignaal-api", "exp": int((now + dt.timedelta(minutes=5)).timestamp()), **extra}


def test_rs256_token_from_the_identity_provider_is_verified_with_the_jwks(tmp_path):
    settings, private = _rsa_settings(tmp_path)
    token = jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": "key-1"})
    caller = TokenVerifier(settings).verify(token)
    assert (caller.subject, caller.role, caller.team) == ("u1", Role.CASEWORKER, "t1")


def test_rs256_verifier_refuses_an_hs256_token(tmp_path):
    settings, _ = _rsa_settings(tmp_path)
    token = jwt.encode(_claims(), SECRET, algorithm="HS256", headers={"kid": "key-1"})
    with pytest.raises(InvalidTokenError, match="invalid token"):
        TokenVerifier(settings).verify(token)


def test_a_key_set_file_serves_its_rsa_keys_only(tmp_path):
    settings, private = _rsa_settings(tmp_path)
    keys = json.loads(settings.jwt_jwks_path.read_text())["keys"]
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    settings.jwt_jwks_path.write_text(json.dumps({"keys": [*keys, {**ec_jwk, "kid": "ec-1", "alg": "ES256"}]}))
    verifier = TokenVerifier(settings)
    assert verifier.verify(jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": "key-1"})).subject == "u1"
    with pytest.raises(InvalidTokenError, match="unknown key id"):  # the EC key is not among the keys served
        verifier.verify(forged_token("ec-1"))
    settings.jwt_jwks_path.write_text(json.dumps({"keys": [{**ec_jwk, "kid": "ec-1"}]}))
    with pytest.raises(ConfigError, match="holds no RSA key"):
        TokenVerifier(settings)


def test_caseworker_token_needs_a_team():
    settings = build_settings(jwt_secret=SECRET, control_sample_key="k")
    token = jwt.encode(_claims(team=None), SECRET, algorithm="HS256")
    with pytest.raises(InvalidTokenError, match=MSG_CLAIM_REQUIRED.format(claim="team", role="caseworker")):
        TokenVerifier(settings).verify(token)


def test_token_for_another_audience_is_refused():
    settings = build_settings(jwt_secret=SECRET, control_sample_key="k")
    token = jwt.encode(_claims(aud="someone-else"), SECRET, algorithm="HS256")
    with pytest.raises(InvalidTokenError, match="Audience"):
        TokenVerifier(settings).verify(token)


class _CountingVerifier(TokenVerifier):
    """Counts the full verifications (decode and signature check)."""

    decoded = 0

    def _decode(self, token):  # noqa: ANN001, ANN202
        self.decoded += 1
        return super()._decode(token)


def _demo_token(settings, subject: str = "user-1", hours: float = 1.0) -> str:  # noqa: ANN001
    expires_in = dt.timedelta(hours=hours)
    return issue_token(settings, subject=subject, role=Role.ETHICS_REVIEWER, expires_in=expires_in)


def test_a_verified_token_is_remembered_and_answers_the_same_caller():
    settings = build_settings(demo_mode=True)
    verifier = _CountingVerifier(settings)
    token = _demo_token(settings)
    first, second = verifier.verify(token), verifier.verify(token)
    assert first == second and first.subject == "user-1" and verifier.decoded == 1


def test_a_remembered_token_is_refused_once_it_expires():
    settings = build_settings(demo_mode=True)
    now = [dt.datetime.now(dt.UTC).timestamp()]
    verifier = TokenVerifier(settings, clock=lambda: now[0])
    token = _demo_token(settings, hours=1)
    verifier.verify(token)
    now[0] += 3600 + settings.jwt_leeway_seconds - 5  # inside the leeway: still valid
    assert verifier.verify(token).subject == "user-1"
    now[0] += 10
    with pytest.raises(ExpiredTokenError, match=MSG_EXPIRED_TOKEN):
        verifier.verify(token)


def test_a_bad_token_is_never_remembered():
    settings = build_settings(demo_mode=True)
    verifier = _CountingVerifier(settings)
    token = jwt.encode(_claims(aud="someone-else"), settings.jwt_secret.get_secret_value(), algorithm="HS256")
    for _ in range(2):
        with pytest.raises(InvalidTokenError, match="Audience"):
            verifier.verify(token)
    assert verifier.decoded == 2


def test_only_the_latest_verified_tokens_are_remembered():
    settings = build_settings(demo_mode=True)
    verifier = _CountingVerifier(settings)
    tokens = [_demo_token(settings, subject=f"user-{i}") for i in range(VERIFIED_TOKENS_KEPT + 1)]
    for token in tokens:
        verifier.verify(token)
    verifier.verify(tokens[-1])  # still remembered
    verifier.verify(tokens[0])  # the oldest was let go: verified again
    assert verifier.decoded == VERIFIED_TOKENS_KEPT + 2


def test_the_service_reads_the_mlflow_store_the_cli_writes_unless_told_otherwise(monkeypatch):
    """With MODEL_URI and no tracking URI, the service opened MLflow's own default (./mlflow.db: a new, empty
    store) and said the registered model had no 'candidate', though 'vroegsignaal train' had just registered it."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = build_settings(demo_mode=True, model_uri="models:/vroegsignaal-synthetic-municipality@candidate")
    assert settings.mlflow_tracking_uri.endswith("var/mlflow/mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    assert build_settings(demo_mode=True, model_uri="models:/x@champion").mlflow_tracking_uri == (
        "http://mlflow.internal:5000")
    assert build_settings(demo_mode=True, model_uri="models:/x@champion",
                          mlflow_tracking_uri="http://other:5000").mlflow_tracking_uri == "http://other:5000"
    assert build_settings(demo_mode=True).mlflow_tracking_uri is None  # bundles from a folder need no store
