"""Selection weights kept in a file: what ``seedcore energy tune --write`` writes and
``SEEDCORE_SELECTION_WEIGHTS`` loads."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

from domain.config import SelectionWeights

__all__ = ["load_weights"]


def load_weights(path: str | Path, base: SelectionWeights | None = None) -> SelectionWeights:
    """Selection weights from a file written by the tuner (unknown keys are refused)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    selection = data.get("selection") if isinstance(data, dict) else None
    if not isinstance(selection, dict):
        raise ValueError(f"{path}: no 'selection' object")
    known = {f.name for f in fields(SelectionWeights)}
    unknown = sorted(set(selection) - known)
    if unknown:
        raise ValueError(f"{path}: unknown selection weights {', '.join(unknown)}")
    return replace(base or SelectionWeights(), **selection)
