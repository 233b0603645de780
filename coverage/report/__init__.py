"""The plan summary for the terminal, in English (:mod:`.en`) or Chinese (:mod:`.zh`)."""

from __future__ import annotations

from .common import table, text_width
from .en import format_summary_en, headline
from .zh import format_summary_zh, headline_zh

__all__ = ["format_summary", "format_summary_en", "format_summary_zh", "headline", "headline_zh", "table", "text_width"]


def format_summary(summary: dict, lang: str | None = None) -> str:
    """The summary of a plan as terminal text: the answer first, then the tables.

    ``lang`` ("en" or "zh", default the summary's ``language``) sets the language of the
    headline, labels and table headings; the radio/network lines stay in English."""
    if (lang or summary.get("language") or "en") == "zh":
        return format_summary_zh(summary)
    return format_summary_en(summary)
