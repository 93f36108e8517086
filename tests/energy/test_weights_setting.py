"""Tuned selection weights reach the composition root through SEEDCORE_SELECTION_WEIGHTS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from entrypoints.bootstrap import domain_config
from entrypoints.settings import Settings, SettingsError


def test_tuned_weights_replace_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    path.write_text(json.dumps({"selection": {"consumption": 1.5, "epsilon": 0.02}}))
    config = domain_config(Settings(selection_weights=str(path)))
    assert config.selection.consumption == 1.5 and config.selection.epsilon == 0.02
    assert config.selection.load == 1.0  # untouched fields keep their defaults


@pytest.mark.parametrize("content", ['{"selection": {"speed": 1}}', "[]", "not json"])
def test_a_bad_weights_file_is_a_settings_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "weights.json"
    path.write_text(content)
    with pytest.raises(SettingsError, match="SEEDCORE_SELECTION_WEIGHTS"):
        domain_config(Settings(selection_weights=str(path)))
