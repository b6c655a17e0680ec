"""Bearer tokens (JWT) and roles.

Tokens carry ``sub`` (a pseudonymous user id, never a resident's data), ``role`` (one of :class:`Role`), and for
caseworkers and admins ``municipality`` (CBS code) and for caseworkers ``team``. The demo signs them with an HS256
secret (:func:`issue_demo_tokens`); production verifies RS256 tokens of the municipality's identity provider against
a public key or a JWKS. Keys are parsed once, when :class:`TokenVerifier` is built at start-up.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import jwt

from vroegsignaal.errors import ConfigError, DataValidationError, PermissionDeniedError, ValidationFailure
from vroegsignaal.schemas.enums import Role
from vroegsignaal.schemas.tables import MUNICIPALITY_PATTERN
from vroegsignaal.service.settings import Settings

MSG_MISSING_TOKEN = "missing bearer token: send 'Authorization: Bearer <token>'"
MSG_EXPIRED_TOKEN = "token expired: sign in again"
MSG_INVALID_TOKEN = "invalid token: {problem}"
MSG_BAD_ROLE_CLAIM = "invalid token: claim 'role' must be one of {roles}, got {value!r}"
MSG_CLAIM_REQUIRED = "invalid token: claim '{claim}' is required for role '{role}'"
MSG_BAD_CLAIM = "invalid token: claim '{claim}' does not match the rule {rule}"
MSG_ROLE_NOT_ALLOWED = "role '{role}' may not {action} (allowed: {allowed})"
MSG_NO_MUNICIPALITY = "this request needs a token scoped to a municipality (claim 'municipality')"
MSG_MUNICIPALITY_REQUIRED = "query parameter 'municipality' is required: your token is not scoped to one"
MSG_OTHER_MUNICIPALITY = "query parameter 'municipality' must be your token's municipality"
CHECK_OWN_MUNICIPALITY = "own_municipality"
CHECK_REQUIRED = "required"
MSG_NOT_AN_RSA_KEY = "its key id names a key of type {key_type} in the key set; RS256 needs an RSA key"
MSG_KEY_SET_UNREADABLE = "the identity provider's key set could not be read ({problem}); try again later"
#: The JWK ``kty`` of the keys that verify RS256 tokens.
RSA_KEY_TYPE = "RSA"
MSG_DEMO_TOKENS_ONLY_IN_DEMO = "demo tokens can only be issued in demo mode with the HS256 demo secret"

TEAM_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SUBJECT_PATTERN = r"^[A-Za-z0-9_.@:-]{1,128}$"
DEMO_MUNICIPALITY = "GM0344"
DEMO_TEAM = "team-noord"
#: Tokens remembered after their signature and claims checked out (see :meth:`TokenVerifier.verify`).
VERIFIED_TOKENS_KEPT = 1024
#: How long a fetch of the identity provider's key set (``jwt_jwks_url``) may take before the token is refused.
JWKS_FETCH_TIMEOUT_SECONDS = 5
#: Worker threads that may wait for the key set at once. PyJWT fetches one at a time anyway; without a bound, tokens
#: with made-up key ids at a silent provider would each hold one of the threads every other blocking request needs.
JWKS_FETCH_THREADS = 2


class InvalidTokenError(PermissionDeniedError):
    """The bearer token is missing, malformed, expired or not signed by a trusted key (HTTP 401)."""


class ExpiredTokenError(InvalidTokenError):
    """The bearer token was valid but has expired: the user must sign in again (HTTP 401)."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: from a verified token."""

    subject: str
    role: Role
    municipality: str | None = None
    team: str | None = None

    def municipality_or_raise(self) -> str:
        """The caller's municipality; :class:`PermissionDeniedError` when the token has none."""
        if self.municipality is None:
            raise PermissionDeniedError(MSG_NO_MUNICIPALITY)
        return self.municipality


def municipality_in_view_or_raise(caller: Caller, requested: str | None) -> str:
    """The municipality a caller may look at (a report, a switch): their token's own, else the one they ask for.

    A token scoped to a municipality may not ask for another one; a token without one (an ethics reviewer) must
    name one. Raises :class:`DataValidationError` naming the query parameter otherwise.
    """
    if caller.municipality is not None and requested not in (None, caller.municipality):
        raise DataValidationError([ValidationFailure("query", "municipality", CHECK_OWN_MUNICIPALITY, 1)],
                                  summary=MSG_OTHER_MUNICIPALITY)
    chosen = caller.municipality or requested
    if chosen is None:
        raise DataValidationError([ValidationFailure("query", "municipality", CHECK_REQUIRED, 1)],
                                  summary=MSG_MUNICIPALITY_REQUIRED)
    return chosen


def ensure_role(caller: Caller, allowed: frozenset[Role], *, action: str) -> None:
    """Raise :class:`PermissionDeniedError` unless the caller's role is allowed."""
    if caller.role not in allowed:
        names = ", ".join(sorted(role.value for role in allowed))
        raise PermissionDeniedError(MSG_ROLE_NOT_ALLOWED.format(role=caller.role.value, action=action, allowed=names))


_ROLE_NEEDS = {
    Role.CASEWORKER: ("municipality", "team"),
    Role.ADMIN: ("municipality",),
    Role.DATA_SCIENTIST: (),
    Role.ETHICS_REVIEWER: (),
}


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    """The :class:`Caller` a verified token's claims describe; :class:`InvalidTokenError` when they do not fit."""
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise InvalidTokenError(MSG_BAD_ROLE_CLAIM.format(roles=", ".join(Role.values()), value=claims.get("role")))
    for claim in _ROLE_NEEDS[role]:
        if not claims.get(claim):
            raise InvalidTokenError(MSG_CLAIM_REQUIRED.format(claim=claim, role=role.value))
    for claim, pattern in (("sub", SUBJECT_PATTERN), ("municipality", MUNICIPALITY_PATTERN), ("team", TEAM_PATTERN)):
        value = claims.get(claim)
        if value is not None and not (isinstance(value, str) and re.fullmatch(pattern, value)):
            raise InvalidTokenError(MSG_BAD_CLAIM.format(claim=claim, rule=pattern))
    return Caller(
        subject=claims["sub"], role=role, municipality=claims.get("municipality"), team=claims.get("team")
    )


class TokenVerifier:
    """Verifies bearer tokens with the key material of the settings, parsed once."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock  # seconds since the epoch, as PyJWT reads them
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._jwks_client: jwt.PyJWKClient | None = None
        self._keys: dict[str | None, Any] = {}
        if settings.jwt_algorithm == "HS256":
            self._keys[None] = settings.jwt_secret.get_secret_value()
        elif settings.jwt_public_key:
            self._keys[None] = _load_public_key(settings.jwt_public_key)
        elif settings.jwt_jwks_path:
            self._keys = _load_jwks_file(settings.jwt_jwks_path)
        else:
            self._jwks_client = jwt.PyJWKClient(
                str(settings.jwt_jwks_url), cache_keys=True, timeout=JWKS_FETCH_TIMEOUT_SECONDS
            )
        self._verified: dict[str, tuple[Caller, int]] = {}
        self._verified_lock = threading.Lock()
        self._fetch_threads = anyio.CapacityLimiter(JWKS_FETCH_THREADS)

    def _key_for(self, token: str) -> Any:
        if self._jwks_client is not None:
            try:
                key = self._jwks_client.get_signing_key_from_jwt(token)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                # PyJWT wraps a provider that cannot be reached, not one that answers with a page that is no key
                # set (JSONDecodeError) or drops the connection while answering (ConnectionResetError,
                # IncompleteRead).
                problem = MSG_KEY_SET_UNREADABLE.format(problem=type(exc).__name__)
                raise InvalidTokenError(MSG_INVALID_TOKEN.format(problem=problem)) from None
            return _rsa_key_or_raise(key)
        if None in self._keys:
            return self._keys[None]
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self._keys:
            raise InvalidTokenError(MSG_INVALID_TOKEN.format(problem="unknown key id (kid)"))
        return self._keys[kid]

    def verify(self, token: str | None) -> Caller:
        """The caller of a token; :class:`InvalidTokenError` for a missing, expired or untrusted token.

        A token that verified once is remembered (the latest :data:`VERIFIED_TOKENS_KEPT`), so a client's next
        requests with it skip decoding and the signature check (about 40 µs a request on the benchmark
        machine). Nothing can go stale: a token's signature and claims never change, and the one thing that
        does — whether it has expired by now — is checked again on every use, the way PyJWT checks it (``exp``
        with the leeway).
        """
        if not token:
            raise InvalidTokenError(MSG_MISSING_TOKEN)
        remembered = self._verified.get(token)
        if remembered is not None:
            caller, expires = remembered
            if expires <= self._clock() - self._leeway:
                self._verified.pop(token, None)
                raise ExpiredTokenError(MSG_EXPIRED_TOKEN)
            return caller
        caller, expires = self._decode(token)
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                del self._verified[next(iter(self._verified))]  # the oldest: dicts keep insertion order
            self._verified[token] = (caller, expires)
        return caller

    async def verify_off_the_loop(self, token: str | None) -> Caller:
        """:meth:`verify` for ``async`` code: in a worker thread when it may have to fetch the identity provider's
        key set (``jwt_jwks_url``: the set expired, or the token names a key id not in it), so that a slow or silent
        provider, or a stream of tokens with made-up key ids, holds up only those requests: neither the event loop
        nor more than :data:`JWKS_FETCH_THREADS` of the worker threads that serve every other one."""
        if self._may_fetch(token):
            # A caller that stops waiting (a page's deadline, a client gone) leaves the fetch to finish on its
            # thread, which keeps its place in the limiter until then.
            return await anyio.to_thread.run_sync(
                self.verify, token, limiter=self._fetch_threads, abandon_on_cancel=True
            )
        return self.verify(token)

    def _may_fetch(self, token: str | None) -> bool:
        return self._jwks_client is not None and bool(token) and token not in self._verified

    def _decode(self, token: str) -> tuple[Caller, int]:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "sub", "role", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ExpiredTokenError(MSG_EXPIRED_TOKEN) from None
        except jwt.PyJWTError as exc:
            # PyJWT's messages name the failing claim or check and never contain the token itself.
            raise InvalidTokenError(MSG_INVALID_TOKEN.format(problem=str(exc) or type(exc).__name__)) from None
        return caller_from_claims(claims), int(claims["exp"])


def _load_public_key(text_or_path: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = text_or_path if "BEGIN" in text_or_path else Path(text_or_path).read_text()
    return load_pem_public_key(pem.encode())


def _rsa_key_or_raise(key: jwt.PyJWK) -> Any:
    """The key of an RSA entry of the identity provider's key set. A key set may also publish EC or symmetric keys;
    a token naming one of those (RS256 is the only algorithm verified with a key set) is invalid, not a crash."""
    if key.key_type != RSA_KEY_TYPE:
        raise InvalidTokenError(MSG_INVALID_TOKEN.format(problem=MSG_NOT_AN_RSA_KEY.format(key_type=key.key_type)))
    return key.key


def _load_jwks_file(path: Path) -> dict[str | None, Any]:
    """The RSA keys of a key set file by key id (its other keys cannot verify an RS256 token)."""
    try:
        keyset = jwt.PyJWKSet.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, jwt.PyJWKSetError) as exc:
        raise ConfigError(f"jwt_jwks_path: cannot read a JWKS from {path}: {exc}") from None
    keys = {key.key_id: key.key for key in keyset.keys if key.key_type == RSA_KEY_TYPE}
    if not keys:
        raise ConfigError(f"jwt_jwks_path: the key set in {path} holds no RSA key; RS256 tokens need one")
    return keys


def issue_token(
    settings: Settings,
    *,
    subject: str,
    role: Role,
    municipality: str | None = None,
    team: str | None = None,
    expires_in: dt.timedelta = dt.timedelta(hours=1),
    now: dt.datetime | None = None,
) -> str:
    """An HS256 token signed with the settings' secret (the demo and the tests; production uses its own IdP)."""
    if settings.jwt_algorithm != "HS256":
        raise ConfigError("issue_token signs with HS256 only; production tokens come from the identity provider")
    issued = now or dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + expires_in).timestamp()),
    }
    if municipality:
        claims["municipality"] = municipality
    if team:
        claims["team"] = team
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def issue_demo_tokens(
    settings: Settings, *, municipality: str = DEMO_MUNICIPALITY, team: str = DEMO_TEAM
) -> dict[Role, str]:
    """One token per role for the demo, valid for ``settings.demo_token_hours``; refused outside demo mode."""
    if not settings.demo_mode or settings.jwt_algorithm != "HS256":
        raise ConfigError(MSG_DEMO_TOKENS_ONLY_IN_DEMO)
    expires = dt.timedelta(hours=settings.demo_token_hours)
    scope: dict[Role, dict[str, str | None]] = {
        Role.CASEWORKER: {"municipality": municipality, "team": team},
        Role.DATA_SCIENTIST: {},
        Role.ETHICS_REVIEWER: {},
        Role.ADMIN: {"municipality": municipality},
    }
    return {
        role: issue_token(settings, subject=f"demo-{role.value}", role=role, expires_in=expires, **claims)
        for role, claims in scope.items()
    }
