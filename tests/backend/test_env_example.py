""".env.example documents every setting, and nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_lists_every_setting() -> None:
    documented = set(re.findall(r"^(GUANJIA_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert documented == {f"GUANJIA_{name.upper()}" for name in Settings.model_fields}


def test_env_example_values_parse() -> None:
    values = dict(re.findall(r"^GUANJIA_([A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))
    parsed = Settings(_env_file=None, **{k.lower(): v for k, v in values.items()})
    # every value shown is the default (compared with the field defaults, not the caller's environment)
    assert parsed.model_dump() == {name: field.default for name, field in Settings.model_fields.items()}
