"""The service's settings: one pydantic-settings object, read from the environment only when asked for.

Environment variables carry the prefix ``VROEGSIGNAAL_`` (``VROEGSIGNAAL_DEMO_MODE=true``); the database URL is also
read from the conventional ``DATABASE_URL``. Nothing is read at import time: :func:`get_settings` builds the object
once and caches it, and :func:`vroegsignaal.service.app.create_app` takes a ``Settings`` so tests pass their own.

Unsafe values are refused outside demo mode: the published demo JWT secret and the demo control-sample key, and the
placeholders of ``docker/.env.example`` (``change-me...``), which are just as public.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vroegsignaal.errors import ConfigError
from vroegsignaal.schemas.enums import ContactIntensity
from vroegsignaal.schemas.dataset_config import DEFAULT_COOLDOWN_DAYS
from vroegsignaal.tracking_store import default_tracking_uri

#: Published in the docs so anyone can run the demo; therefore never acceptable outside demo mode.
DEMO_JWT_SECRET = "vroegsignaal-demo-secret-do-not-use-in-production"
DEMO_CONTROL_SAMPLE_KEY = "vroegsignaal-demo-control-sample-key"
#: How the placeholders of ``docker/.env.example`` begin: a copy of that file with a value left as it was would run
#: the service on a secret anyone can read in the repository (tokens forged for any role; the control sample
#: predicted).
PLACEHOLDER_PREFIX = "change-me"
#: AI Act art. 26(6): deployers keep automatically generated logs for at least six months.
MIN_AUDIT_RETENTION_DAYS = 183

MSG_DEMO_SECRET = (
    "jwt_secret is a published value (the demo secret, or a placeholder of docker/.env.example); set "
    "VROEGSIGNAAL_JWT_SECRET to 32 or more random characters, or run with VROEGSIGNAAL_DEMO_MODE=true"
)
MSG_DEMO_CONTROL_KEY = (
    "control_sample_key is a published value (the demo key, or a placeholder of docker/.env.example); set "
    "VROEGSIGNAAL_CONTROL_SAMPLE_KEY to a random key, or run in demo mode"
)
MSG_SHORT_SECRET = "jwt_secret must be at least 32 characters for HS256"
MSG_RETENTION_BELOW_COOLDOWN = (
    "retention_days ({retention}) must be at least cooldown_days ({cooldown}): the cooldown is read from the "
    "decisions the purge would delete, so a household reached recently would be listed again"
)
#: How far back the model's features count signals (``vroegsignaal.scoring.features.WINDOW_12M_DAYS``, not imported:
#: it brings pandas).
FEATURE_WINDOW_DAYS = 365
MSG_RETENTION_CUTS_FEATURES = (
    "retention_days ({retention}) is shorter than the {window} days the model's features look back: the purge "
    "deletes signals that scores still count, so a household with older arrears scores lower than the model was "
    "trained for, and export-decisions leaves out every decision once a purge has run; set at least {window} "
    "unless the law requires less"
)
MSG_RS256_NEEDS_KEY = "jwt_algorithm RS256 needs jwt_public_key, jwt_jwks_path or jwt_jwks_url"
#: Where ``vroegsignaal train`` keeps its local MLflow store (``cli.DEFAULT_VAR / "mlflow"``).
DEFAULT_MLFLOW_DIR = Path("var/mlflow")
MSG_NO_MODEL_SOURCE = "set models_dir or model_uri (models:/NAME@alias) so the service has a model to serve"


class Settings(BaseSettings):
    """Every setting of the service; see ``docs/operations.md`` for the table with defaults."""

    model_config = SettingsConfigDict(env_prefix="VROEGSIGNAAL_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///var/service.db",
        validation_alias=AliasChoices("VROEGSIGNAAL_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL: SQLite by default, postgresql+psycopg://... in production.",
    )
    demo_mode: bool = Field(default=False, description="Allow demo secrets and unapproved models (flagged).")
    api_docs_pages: bool | None = Field(
        default=None,
        description="Serve the interactive API pages /docs and /redoc. They load Swagger UI and ReDoc from a CDN "
        "(jsdelivr) into the service's own origin, where caseworkers are signed in: on in demo mode, off otherwise "
        "unless set (the API description is always at /openapi.json).",
    )

    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_secret: SecretStr = SecretStr(DEMO_JWT_SECRET)
    jwt_public_key: str | None = Field(default=None, description="PEM text of the RS256 public key.")
    jwt_jwks_path: Path | None = Field(default=None, description="A JWKS file with the RS256 public keys.")
    jwt_jwks_url: str | None = Field(default=None, description="A JWKS URL of the identity provider.")
    jwt_issuer: str = "vroegsignaal"
    jwt_audience: str = "vroegsignaal-api"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    demo_token_hours: int = Field(default=12, ge=1, le=24 * 7)

    models_dir: Path | None = Field(default=Path("var/models"), description="Directory of model bundle directories.")
    model_uri: str | None = Field(default=None, description="MLflow registry URI, e.g. models:/vroegsignaal@champion.")
    model_cache_dir: Path = Path("var/model-cache")
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="The MLflow server or store; with model_uri and none given: $MLFLOW_TRACKING_URI, else the "
        "local store 'vroegsignaal train' writes (var/mlflow/mlflow.db), so the service finds what the CLI registered.",
    )

    max_batch_size: int = Field(default=500, ge=1, le=10_000, description="Households per scoring request (413).")
    max_body_bytes: int = Field(default=5_000_000, ge=1_000, description="Largest request body in bytes (413).")
    first_contact_days: int = Field(default=28, ge=1, le=90, description="Calendar days to the first conversation.")
    urgent_contact_working_days: int = Field(default=3, ge=1, le=10, description="Working days when urgent.")
    cooldown_days: int = Field(default=DEFAULT_COOLDOWN_DAYS, ge=0, le=730, description="Hold back recently contacted households.")
    control_sample_rate: float = Field(default=0.05, ge=0.0, le=1.0, description="Share of households in the control sample.")
    control_sample_key: SecretStr = SecretStr(DEMO_CONTROL_SAMPLE_KEY)
    standard_intensity: ContactIntensity = Field(
        default=ContactIntensity.LETTER, description="First contact of the standard approach."
    )
    weekly_capacity: int = Field(
        default=25, ge=1, le=10_000, description="Households a team can contact per week (shown on the list)."
    )
    order_tolerance: int = Field(
        default=5, ge=1, description="A decision on an item ranked below this position departs from the order."
    )
    retention_days: int = Field(default=730, ge=30, description="Signals and scores older than this are purged.")
    audit_retention_days: int = Field(default=730, ge=MIN_AUDIT_RETENTION_DAYS)
    oversight_min_decisions: int = Field(default=20, ge=1)
    automation_bias_share: float = Field(default=0.02, ge=0.0, le=1.0)

    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_connect_timeout_seconds: int = Field(default=5, ge=1, le=60)
    db_timeout_seconds: int = Field(
        default=30, ge=1, le=600,
        description="Longest wait for the database within a request (a statement, a lock, a silent network) before "
        "it answers 503; see docs/operations.md.",
    )
    db_pooler: bool = Field(
        default=False,
        description="DATABASE_URL leads to a connection pooler such as PgBouncer (either pool mode): set the timeouts "
        "in every transaction and prepare no statements on the server; see docs/operations.md.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _refuse_unsafe_values(self) -> Settings:
        if self.model_uri is not None and self.mlflow_tracking_uri is None:
            # The CLI's default store: without it MLflow's own default (./mlflow.db) was opened, a new and empty one.
            object.__setattr__(self, "mlflow_tracking_uri", default_tracking_uri(DEFAULT_MLFLOW_DIR))
        self._check_secrets()
        if self.retention_days < self.cooldown_days:
            raise ValueError(MSG_RETENTION_BELOW_COOLDOWN.format(retention=self.retention_days, cooldown=self.cooldown_days))
        return self

    def _check_secrets(self) -> None:
        """The token signing secret (or key) and the control-sample key: unpublished, long enough, present."""
        if self.jwt_algorithm == "HS256":
            secret = self.jwt_secret.get_secret_value()
            if _published(secret, DEMO_JWT_SECRET) and not self.demo_mode:
                raise ValueError(MSG_DEMO_SECRET)
            if len(secret) < 32:
                raise ValueError(MSG_SHORT_SECRET)
        elif not (self.jwt_public_key or self.jwt_jwks_path or self.jwt_jwks_url):
            raise ValueError(MSG_RS256_NEEDS_KEY)
        if _published(self.control_sample_key.get_secret_value(), DEMO_CONTROL_SAMPLE_KEY) and not self.demo_mode:
            raise ValueError(MSG_DEMO_CONTROL_KEY)

    @property
    def retention_warning(self) -> str | None:
        """Why the retention period harms the scores, if it does (logged at start, printed by the purge): not refused,
        for a municipality may be bound to a shorter one."""
        if self.retention_days >= FEATURE_WINDOW_DAYS:
            return None
        return MSG_RETENTION_CUTS_FEATURES.format(retention=self.retention_days, window=FEATURE_WINDOW_DAYS)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class MaintenanceSettings(Settings):
    """Settings of the maintenance commands (migrate, verify the audit log, purge, export, promote): they neither
    sign nor check tokens nor draw the control sample, so they do not need those secrets. A cron job or an auditor
    is not handed the key that can sign a token for any role."""

    def _check_secrets(self) -> None:
        return None


def _published(value: str, demo_value: str) -> bool:
    """Whether a secret is one anyone can read: the demo's, or a placeholder left as ``docker/.env.example`` has it."""
    return value == demo_value or value.strip().lower().startswith(PLACEHOLDER_PREFIX)


def build_settings(*, maintenance: bool = False, **overrides: object) -> Settings:
    """Settings from the environment plus ``overrides``; an invalid value raises :class:`ConfigError`. With
    ``maintenance`` the token and control-sample secrets are not checked (:class:`MaintenanceSettings`)."""
    try:
        return (MaintenanceSettings if maintenance else Settings)(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return build_settings()


def get_maintenance_settings() -> Settings:
    """The settings of a maintenance command (see :class:`MaintenanceSettings`)."""
    return build_settings(maintenance=True)
