"""Settings refuse unsafe values; tokens are verified with HS256 or RS256 (JWKS) and describe the caller."""

from __future__ import annotations

import datetime as dt
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.enums import Role
from vroegsignaal.service.security import (
    MSG_CLAIM_REQUIRED,
    InvalidTokenError,
    TokenVerifier,
    issue_demo_tokens,
)
from vroegsignaal.service.settings import MSG_DEMO_CONTROL_KEY, MSG_DEMO_SECRET, build_settings

SECRET = "unit-secret-of-at-least-thirty-two-chars"


def test_demo_secret_is_refused_outside_demo_mode():
    with pytest.raises(ConfigError, match=MSG_DEMO_SECRET.split(";")[0]):
        build_settings(control_sample_key="k")


def test_demo_control_key_is_refused_outside_demo_mode():
    with pytest.raises(ConfigError, match=MSG_DEMO_CONTROL_KEY.split(";")[0]):
        build_settings(jwt_secret=SECRET)


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
