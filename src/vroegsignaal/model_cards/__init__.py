"""Model cards: rendering a :class:`~vroegsignaal.schemas.card.ModelCard` to JSON, Markdown, HTML and plots.

The card's schema lives in :mod:`vroegsignaal.schemas.card`; its default texts in :mod:`.texts`; the plots in
:mod:`.plots`; the Algoritmeregister mapping in :mod:`.algoritmeregister`. The top-level ``model_cards/`` folder of
the repository keeps the rendered cards of released versions.
"""

from vroegsignaal.model_cards.render import CardFiles, load_card, render_card, validate_card_json

__all__ = ["CardFiles", "load_card", "render_card", "validate_card_json"]
