"""The random control sample: households that get the standard approach regardless of their score.

Membership is a keyed hash (HMAC-SHA256 with a municipality-held key) of municipality, household pseudonym and
period, so it is random to everyone without the key, yet the same on every retry and every worker. A second keyed
draw places items the model does not rank (the control sample among them) at a random position of the list,
independent of their score, so the model's lift can be measured on the control sample without selection bias.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

_SCALE = float(2**64)


def sample_period(day: dt.date) -> str:
    """The period a membership is drawn for: the calendar month (a retry within the month gets the same answer)."""
    return f"{day.year:04d}-{day.month:02d}"


def _uniform(key: bytes, message: str) -> float:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def in_control_sample(*, key: bytes, municipality: str, household: str, period: str, rate: float) -> bool:
    """Whether a household is in the control sample of ``period`` (deterministic for a given key)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"control sample rate must be within [0, 1], got {rate}")
    return _uniform(key, f"control|{municipality}|{household}|{period}") < rate


def position_draw(*, key: bytes, municipality: str, household: str) -> float:
    """A uniform draw in [0, 1) that places an item the model does not rank in the list (stable per household)."""
    return _uniform(key, f"position|{municipality}|{household}")
