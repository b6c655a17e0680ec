"""Batch scoring of a flat feature table: the work behind ``vroegsignaal score``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from vroegsignaal.scoring.bundle import load_bundle
from vroegsignaal.schemas.identifiers import refuse_identifier_columns
from vroegsignaal.scoring.io import read_table, write_table
from vroegsignaal.scoring.scorer import Explain, Scorer

ROW_NUMBER = "row"


@dataclass(frozen=True)
class BatchSummary:
    rows: int
    explained: int
    model_version: str


def scored_table(
    scorer: Scorer,
    features: pd.DataFrame,
    *,
    explain: Explain = "listed",
    lang: Literal["nl", "en"] = "nl",
    top_n: int = 3,
) -> pd.DataFrame:
    """One row per input row: id, score, band, suggested contact, flags, out-of-range features and top reasons."""
    id_column = scorer.bundle.config.id
    result = scorer.score_frame(features, explain=explain, top_n=top_n)
    table = pd.DataFrame(index=features.index)
    if id_column and id_column in features.columns:
        table[id_column] = features[id_column].to_numpy()
    else:
        table[ROW_NUMBER] = np.arange(len(features))
    if "reference_date" in features.columns:
        table["reference_date"] = features["reference_date"].to_numpy()
    table["score"] = result["score"].round(6)
    table["band"] = result["band"]
    table["intensity"] = result["intensity"]
    table["uncertain"] = result["uncertain"]
    table["flags"] = [";".join(flags) for flags in result["flags"]]
    table["out_of_distribution"] = [";".join(names) for names in result["out_of_distribution"]]
    key = f"text_{lang}"
    for i in range(top_n):
        table[f"reason_{i + 1}"] = [
            reasons[i][key] if reasons is not None and len(reasons) > i else None for reasons in result["reasons"]
        ]
    table["model_version"] = scorer.model_version
    return table.reset_index(drop=True)


def score_file(
    bundle_dir: Path,
    input_path: Path,
    output_path: Path,
    *,
    explain: Explain = "listed",
    lang: Literal["nl", "en"] = "nl",
    top_n: int = 3,
) -> BatchSummary:
    """Score the table at ``input_path`` with the bundle and write the result to ``output_path``."""
    scorer = Scorer(load_bundle(bundle_dir))
    features = read_table(input_path, table="input")
    # A table to score is checked like training data: a BSN, name or address column never reaches the output.
    id_column = scorer.bundle.config.id
    refuse_identifier_columns({"input": features}, allowed={"household_id", *([id_column] if id_column else [])})
    table = scored_table(scorer, features, explain=explain, lang=lang, top_n=top_n)
    write_table(table, output_path)
    return BatchSummary(len(table), int(table["reason_1"].notna().sum()) if top_n else 0, scorer.model_version)
