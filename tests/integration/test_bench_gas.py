"""scripts/bench_gas.py: every figure present and within its ceiling (gas is deterministic)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from passport.toolchain.compiler import REPO_ROOT

pytestmark = pytest.mark.slow

CEILINGS = {
    "transfer_new_holder": 70_000,
    "attest": 85_000,
    "attest_by_sig": 95_000,
    "revoke": 35_000,
    "mint": 150_000,
    "split_1_to_3": 260_000,
    "set_profile_root": 50_000,
    "set_facility_record": 35_000,
    "add_documents": 35_000,
    "anchor_telemetry": 60_000,
}


def test_bench_json_keys_and_ceilings() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "bench_gas.py"), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    gas = json.loads(proc.stdout)
    assert list(gas) == [
        "mint",
        "transfer_new_holder",
        "transfer_existing_holder",
        "offer",
        "accept",
        "split_1_to_3",
        "process_3_to_1",
        "attest",
        "attest_by_sig",
        "revoke",
        "set_profile_root",
        "set_facility_record",
        "add_documents",
        "anchor_telemetry",
    ]
    assert all(isinstance(v, int) and v > 21_000 for v in gas.values())
    for key, ceiling in CEILINGS.items():
        assert gas[key] <= ceiling, f"{key}: {gas[key]} > {ceiling}"
    assert gas["offer"] + gas["accept"] <= 130_000
    assert gas["transfer_existing_holder"] < gas["transfer_new_holder"]
