"""``bench/results_file.py``: each benchmark rewrites its own section of bench/RESULTS.md and leaves the rest as is."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "results_file.py"
_spec = importlib.util.spec_from_file_location("results_file", SCRIPT)
assert _spec is not None and _spec.loader is not None
results_file = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results_file)

FILE = """# Benchmark results

## Training — 1,000 households

old training

## Scoring service over HTTP

old service
more old service

## Where the time goes

phases
"""


def test_a_section_is_replaced_in_its_place_and_the_others_are_kept(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(FILE, encoding="utf-8")
    results_file.replace_section(path, "## Scoring service over HTTP\n\nnew service\n")
    assert path.read_text(encoding="utf-8") == FILE.replace("old service\nmore old service", "new service")


def test_a_size_in_the_heading_replaces_the_section_measured_at_another_size(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(FILE, encoding="utf-8")
    results_file.replace_section(path, "## Training — 5 households\n\nnew training")
    text = path.read_text(encoding="utf-8")
    assert text == FILE.replace("## Training — 1,000 households\n\nold training", "## Training — 5 households\n\nnew training")


def test_the_last_section_and_a_new_one(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(FILE, encoding="utf-8")
    results_file.replace_section(path, "## Where the time goes\n\nnew phases\n")
    results_file.replace_section(path, "## Memory\n\nnew\n")
    assert path.read_text(encoding="utf-8") == FILE.replace("phases\n", "new phases\n") + "\n## Memory\n\nnew\n"


def test_a_missing_file_starts_with_the_title(tmp_path):
    path = tmp_path / "RESULTS.md"
    results_file.replace_section(path, "## Memory\n\nnew\n")
    assert path.read_text(encoding="utf-8") == "# Benchmark results\n\n## Memory\n\nnew\n"
