"""`passport compile` through click's runner and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from passport.cli import cli
from passport.toolchain.artifacts import ARTIFACTS_DIR

pytestmark = pytest.mark.slow
PASSPORT = Path(sys.executable).with_name("passport")


def test_check_reports_up_to_date() -> None:
    result = CliRunner().invoke(cli, ["compile", "--check"])
    assert result.exit_code == 0, result.output
    assert result.output == "artifacts are up to date\n"


def test_check_json_prints_one_document() -> None:
    result = CliRunner().invoke(cli, ["compile", "--check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"changed": [], "checked": True}


def test_compile_on_clean_tree_changes_nothing(tmp_path: Path) -> None:
    committed = {p.name: p.read_bytes() for p in ARTIFACTS_DIR.glob("*.json")}
    for name, data in committed.items():
        (tmp_path / name).write_bytes(data)
    result = CliRunner().invoke(cli, ["compile", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changed"] == []
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.json")} == committed


def test_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "PASSPORT_SOLC": str(tmp_path / "missing-solc")}
    proc = subprocess.run([PASSPORT, "compile"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert (
        proc.stderr
        == f"error: solc compiler at {tmp_path / 'missing-solc'} is not usable: missing or not executable\n"
    )


def test_unknown_option_is_a_usage_error() -> None:
    proc = subprocess.run([PASSPORT, "compile", "--bogus"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "No such option '--bogus'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_version() -> None:
    proc = subprocess.run([PASSPORT, "--version"], capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("passport, version ")
