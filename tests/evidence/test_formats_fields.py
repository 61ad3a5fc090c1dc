"""Every field of every format, changed alone: each UNTP credential's fields (re-signed by the same
key, so only the rebuild from the verified passport can catch it) and every EPCIS event field.
Each change fails, naming the field (or, for the issuer's id, the issuer). The embedded passport's
own fields and proofs are changed one by one in test_offline.py; here its verification result is
memoised so the loops stay fast."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from passport.cli import cli
from passport.evidence import OfflineReport
from passport.formats import epcis, untp
from passport.formats.untp import verify as untp_verify
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from tests.evidence.conftest import Exported, chain_args
from tests.evidence.test_offline import _mutate

pytestmark = pytest.mark.slow


@pytest.fixture
def memoised(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """verify_offline answers from a cache keyed by the passport's JSON (it is unchanged here)."""
    cache: dict[str, OfflineReport] = {}

    def wrap(real: Callable[..., OfflineReport]) -> Callable[..., OfflineReport]:
        def cached(document: Any, trust: Any, *args: Any, **kwargs: Any) -> OfflineReport:
            key = document.model_dump_json()
            if key not in cache:
                cache[key] = real(document, trust, *args, **kwargs)
            return copy.deepcopy(cache[key])

        return cached

    monkeypatch.setattr(untp_verify, "verify_offline", wrap(untp_verify.verify_offline))
    monkeypatch.setattr(epcis, "verify_offline", wrap(epcis.verify_offline))
    yield


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for n, v in enumerate(value) for p in _leaves(v, (*path, n))]
    return [path]


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _changed(data: Any, path: tuple[Any, ...]) -> Any:
    changed = copy.deepcopy(data)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _mutate(target[path[-1]])
    return changed


def _export(node_export: Exported, tmp_path: Path, fmt: str, *extra: str) -> str:
    out = tmp_path / f"{fmt}.out"
    block = str(node_export.wf6.chain.as_of_block)
    result = CliRunner().invoke(
        cli,
        ["passport", "export", str(node_export.result.batches["wf6"]), "--format", fmt, "--block", block,
         "--out", str(out), *extra, *chain_args(node_export)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out.read_text().strip()


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


@pytest.mark.parametrize(
    ("fmt", "who", "extra"),
    [
        ("untp-dpp", "fab", ()),
        ("untp-dte", "refinery", ()),
        ("untp-dcc", "certifier", ("--attestation",)),
    ],
)
def test_every_credential_field_changed_fails_named(
    node_export: Exported,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    fmt: str,
    who: str,
    extra: tuple[str, ...],
) -> None:
    if fmt != "untp-dcc":  # the DCC's check reads the accreditation window from the proofs each time
        request.getfixturevalue("memoised")
    key = dev_accounts()[DEV_ROLES.index(who)].key
    args = ["--dev-account", who]
    if extra:
        args += [
            extra[0],
            next(a.uid for a in node_export.wf6.attestations if a.schema_name == "origin-verified"),
        ]
    vc = _payload(_export(node_export, tmp_path, fmt, *args))
    assert untp.verify_credential(untp.sign(vc, key), node_export.trust).ok
    # The passport is checked field by field elsewhere; an embedded policy is an input of the
    # rebuild (a credential may state any policy; its conformance is recomputed from it).
    paths = [p for p in _leaves(vc) if p[0] != "evidence" and "policy" not in p]
    assert len(paths) > 30
    for path in paths:
        report = untp.verify_credential(untp.sign(_changed(vc, path), key), node_export.trust)
        named = [f.where for f in report.failures]
        assert not report.ok, path
        if path[:2] != ("issuer", "id"):
            target = f"credential.{_dotted(path)}"
            # the field, or the object that contains it where one check covers the whole object
            # (the EIP-712 digest over onChainAttestation, the credential's type)
            assert any(w == target or target.startswith((w + "[", w + ".")) for w in named), (path, named)


def test_every_epcis_event_field_changed_fails_named(
    node_export: Exported, tmp_path: Path, memoised: None
) -> None:
    doc = json.loads(_export(node_export, tmp_path, "epcis"))
    paths = [p for p in _leaves(doc) if p[0] != "mp:passport"]
    assert len(paths) > 150
    for path in paths:
        report = epcis.verify_document(json.dumps(_changed(doc, path)), node_export.trust)
        named = [f.where for f in report.failures]
        assert f"epcis.{_dotted(path)}" in named, (path, named)
