"""Writing one benchmark's section of ``bench/RESULTS.md`` without touching the others."""

from __future__ import annotations

from pathlib import Path

HEADER = "# Benchmark results\n\n"


def replace_section(path: Path, section: str) -> None:
    """Put ``section`` (starting with its ``## `` heading) into ``path``, replacing an earlier section of that heading.

    Only the heading up to an em dash counts, so a section whose title carries a size (``— 1,000,000 households``)
    replaces the one measured at another size.
    """
    heading = section.splitlines()[0].split(" — ")[0]
    existing = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if heading in existing:
        before, _, after = existing.partition(heading)
        rest = after.split("\n## ", 1)
        existing = before + (("## " + rest[1]) if len(rest) > 1 else "")
    path.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")
