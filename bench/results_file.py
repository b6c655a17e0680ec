"""Writing one benchmark's section of ``bench/RESULTS.md`` without touching the others."""

from __future__ import annotations

from pathlib import Path

HEADER = "# Benchmark results\n\n"


def replace_section(path: Path, section: str) -> None:
    """Put ``section`` (starting with its ``## `` heading) into ``path``: in the place of an earlier section of that
    heading, else at the end.

    Only the heading up to an em dash counts, so a section whose title carries a size (``— 1,000,000 households``)
    replaces the one measured at another size.
    """
    heading = section.splitlines()[0].split(" — ")[0]
    existing = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if heading not in existing:
        path.write_text(existing.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n", encoding="utf-8")
        return
    # In place, so the file keeps its order whichever benchmark ran last.
    before, _, after = existing.partition(heading)
    following = after.split("\n## ", 1)
    rest = "\n\n## " + following[1] if len(following) > 1 else "\n"
    path.write_text(before + section.rstrip("\n") + rest, encoding="utf-8")
