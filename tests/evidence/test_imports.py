"""The offline verifier is embeddable: importing and running it loads no web3, no py-evm, no
node, no SDK, and no compiler."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "web3",
    "eth",
    "eth_account",
    "eth_tester",
    "solcx",
    "requests",
    "lmdb",
    "passport.sdk",
    "passport.node",
)


def test_evidence_imports_no_web3_no_pyevm() -> None:
    code = (
        "import sys\n"
        "import passport.evidence\n"
        "from passport.evidence import verify_offline, TrustAnchor\n"
        f"bad = sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
