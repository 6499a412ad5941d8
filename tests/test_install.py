"""The lean install: argostranslate's package code works, PyTorch and stanza are absent."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest


@pytest.mark.parametrize("heavy", ["torch", "stanza", "spacy"])
def test_heavy_requirements_are_not_installed(heavy: str) -> None:
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution(heavy)


def test_argos_package_code_is_usable_without_them(tmp_path: Path) -> None:
    code = (
        "import sys, argostranslate.package as p; p.get_installed_packages();"
        "print(','.join(m for m in ('torch', 'stanza', 'argostranslate.translate')"
        " if m in sys.modules))"
    )
    # argostranslate's settings create folders at import: keep them in tmp_path.
    env = os.environ | {
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "ARGOS_PACKAGES_DIR": str(tmp_path / "packages"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.strip() == ""
    assert metadata.version("argostranslate") == "1.11.0"
