"""Numbers the way a Dutch or English reader expects them, shared by the model card and the pages.

A gated value and its bootstrap interval appear in the card's tables and sentences and on the service's pages; they
are written here, once, so the committee reads ``0,78 (0,70–0,86)`` wherever it meets one.
"""

from __future__ import annotations

from vroegsignaal.schemas.card import Lang


def format_decimal(value: float, lang: Lang, *, digits: int) -> str:
    """``1.234,57`` in Dutch, ``1,234.57`` in English; a value that rounds to zero has no minus sign.

    >>> format_decimal(1234.567, "nl", digits=2)
    '1.234,57'
    """
    text = f"{abs(value):,.{digits}f}"
    sign = "-" if value < 0 and float(text.replace(",", "")) != 0 else ""
    if lang == "nl":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return sign + text


def format_estimate(
    value: float | None,
    low: float | None,
    high: float | None,
    lang: Lang,
    *,
    missing: str,
    digits: int = 2,
    interval_word: str = "",
) -> str:
    """A value with its interval, ``0,81 (0,72–0,88)``; the value alone when the interval is incomplete, ``missing``
    when there is no value. In a sentence ``interval_word`` names the interval: ``0,81 (marge 0,72–0,88)``.

    >>> format_estimate(0.81, 0.72, 0.88, "en", missing="n/a")
    '0.81 (0.72–0.88)'
    """
    if value is None:
        return missing
    text = format_decimal(value, lang, digits=digits)
    if low is None or high is None:
        return text
    prefix = f"{interval_word} " if interval_word else ""
    return f"{text} ({prefix}{format_decimal(low, lang, digits=digits)}–{format_decimal(high, lang, digits=digits)})"
