"""Docs that code can drift from are checked: settings and error codes."""

from __future__ import annotations

import re
from pathlib import Path

import chatalot.config as config_module
from chatalot.config import KNOWN_VARIABLES
from chatalot.errors import ErrorCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_variable_read_is_known() -> None:
    """Every environment variable config.py reads is listed in KNOWN_VARIABLES (and vice versa)."""
    source = Path(config_module.__file__).read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    assert read == set(KNOWN_VARIABLES)


def test_every_variable_is_documented() -> None:
    """docs/configuration.md has a table row for every variable, and no row for an unknown one."""
    text = (DOCS / "configuration.md").read_text()
    rows = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert rows == set(KNOWN_VARIABLES)


def test_every_error_code_is_documented() -> None:
    """docs/errors.md lists exactly the ErrorCode values."""
    text = (DOCS / "errors.md").read_text()
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    assert rows == {code.value for code in ErrorCode}
