"""Credential status (W3C Bitstring Status List v1.0): DPPs and DCCs name their bits in their
issuer's lists; `passport status publish` derives the lists from the chain and signs them;
`passport serve` serves them; `verify --status` checks signature, issuer, freshness and the bit.
A revocation on chain shows once the list is republished; a list signed by someone else, stale,
or changed in any field fails, naming it."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from passport.cli import cli
from passport.core.types import Stage
from passport.exceptions import CredentialError
from passport.formats import untp
from passport.formats.untp.status import MIN_BITS, StatusList, bit, decode_list, encode_list
from passport.resolver import Resolver, make_server
from passport.sdk import AttestationRequest, Client, Sdk
from passport.sdk.accounts import DEV_ROLES, dev_accounts
from passport.toolchain.compiler import REPO_ROOT
from tests.evidence.conftest import Exported, chain_args
from tests.evidence.test_formats_fields import _dotted, _leaves
from tests.evidence.test_offline import _mutate

STANDARDS = REPO_ROOT.parent / "shared" / "standards" / "untp"
BASE = "https://id.example.org"


def _account(name: str) -> Any:
    return dev_accounts()[DEV_ROLES.index(name)]


def _payload(token: str) -> dict[str, Any]:
    part = token.strip().split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


# ---------------------------------------------------------------------------------- the bitstring


def test_the_specs_example_list_decodes_to_16_kib_of_zeros() -> None:
    bits = decode_list("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
    assert len(bits) * 8 == MIN_BITS and not any(bits)


def test_index_zero_is_the_first_bytes_most_significant_bit() -> None:
    bits = decode_list(encode_list([0, 9]))
    assert bits[0] == 0x80 and bits[1] == 0x40 and not any(bits[2:])


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_BITS * 3), max_size=40))
def test_encoded_lists_decode_to_the_bits_set(indices: set[int]) -> None:
    bits = decode_list(encode_list(indices))
    assert len(bits) * 8 >= max([MIN_BITS, *(i + 1 for i in indices)])
    probes = indices | {i + 1 for i in indices} | {0, MIN_BITS - 1}
    assert {i for i in probes if i < len(bits) * 8 and bit(bits, i)} == indices


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        ("H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA", "start with 'u'"),
        ("u!!!", "not base64url"),
        ("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="), "not a GZIP"),
        (None, "start with 'u'"),
    ],
)
def test_malformed_lists_are_refused_with_the_reason(encoded: Any, reason: str) -> None:
    with pytest.raises(CredentialError, match=reason):
        decode_list(encoded)


def test_short_and_bomb_lists_are_refused() -> None:
    import gzip

    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100))).decode().rstrip("=")
    with pytest.raises(CredentialError, match="fewer than the spec's minimum"):
        decode_list(short)
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(17 * 1024 * 1024))).decode().rstrip("=")
    with pytest.raises(CredentialError, match="inflates beyond"):
        decode_list(bomb)


# ---------------------------------------------------------------------------------- on the chain


@pytest.fixture(scope="module")
def published(node_export: Exported) -> Path:
    """The folder the demo published its lists in (`passport serve --published`)."""
    return node_export.out / "published"


def _lists(published: Path, who: str, kind: str) -> list[StatusList]:
    folder = published / "status" / "1337" / _account(who).address
    return [StatusList.read((folder / f"{kind}-{p}.jwt").read_text()) for p in ("revocation", "suspension")]


@pytest.mark.slow
def test_the_demos_credentials_name_their_bits_and_validate(node_export: Exported, published: Path) -> None:
    dcc_schema = Draft202012Validator(json.loads((STANDARDS / "untp-dcc-schema.json").read_text()))
    dpp_schema = Draft202012Validator(json.loads((STANDARDS / "untp-dpp-schema.json").read_text()))
    passports = node_export.result.passports
    dpp = _payload(passports["wf6-untp-dpp"].read_text())
    assert not list(dpp_schema.iter_errors(dpp))
    wf6 = node_export.result.batches["wf6"]
    fab = _account("fab").address
    assert [(e["statusPurpose"], e["statusListIndex"], e["statusListCredential"]) for e in dpp["credentialStatus"]] == [
        (p, str(wf6), f"https://id.mineral-passport.example/status/1337/{fab}/dpp-{p}")
        for p in ("revocation", "suspension")
    ]  # fmt: skip
    for label in ("origin", "labour-audit"):
        dcc = _payload(passports[f"{label}-dcc"].read_text())
        assert not list(dcc_schema.iter_errors(dcc))
        assert {e["type"] for e in dcc["credentialStatus"]} == {"BitstringStatusListEntry"}
    # each list is a vc+jwt that jwcrypto verifies too
    for item in _lists(published, "certifier", "dcc") + _lists(published, "fab", "dpp"):
        header = json.loads(base64.urlsafe_b64decode(item.token.split(".")[0] + "=="))
        verifier = jwcrypto_jws.JWS()
        verifier.deserialize(item.token)
        verifier.verify(jwcrypto_jwk.JWK(**header["jwk"]), alg="ES256K")
        assert json.loads(verifier.payload) == item.credential
        assert item.credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]


@pytest.mark.slow
def test_the_cli_reports_revoked_and_clear_credentials(node_export: Exported, published: Path) -> None:
    trust = str(node_export.result.trust_anchor)
    folder = published / "status" / "1337" / _account("certifier").address
    lists = ["--status", str(folder / "dcc-revocation.jwt"), "--status", str(folder / "dcc-suspension.jwt")]
    passports = node_export.result.passports
    clear = CliRunner().invoke(
        cli, ["verify", str(passports["origin-dcc"]), "--trust", trust, *lists, "--json"]
    )
    assert clear.exit_code == 0, clear.output
    notes = json.loads(clear.output)["notes"]
    assert any(n.startswith("status: not revoked at block") for n in notes), notes
    assert any(n.startswith("status: not suspended at block") for n in notes), notes
    revoked = CliRunner().invoke(
        cli, ["verify", str(passports["labour-audit-dcc"]), "--trust", trust, *lists]
    )
    assert revoked.exit_code == 1
    assert "revoked at block" in revoked.output and "dcc-revocation" in revoked.output
    # without the lists: authentic, and the note says the status was not checked
    unchecked = CliRunner().invoke(
        cli, ["verify", str(passports["labour-audit-dcc"]), "--trust", trust, "--json"]
    )
    assert unchecked.exit_code == 0, unchecked.output
    assert any("status not checked" in n for n in json.loads(unchecked.output)["notes"])
    shown = CliRunner().invoke(cli, ["status", "show", str(folder / "dcc-revocation.jwt"), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["purpose"] == "revocation" and json.loads(shown.output)["set"]
    bad = CliRunner().invoke(
        cli, ["verify", str(passports["origin-dcc"]), "--trust", trust, "--status", str(trust)]
    )
    assert bad.exit_code == 1 and "is not a valid status list" in str(bad.exception)


@pytest.mark.slow
def test_revoking_on_chain_shows_once_the_list_is_republished(node_export: Exported, tmp_path: Path) -> None:
    # a client of its own: the session's has nonces cached that other tests' clients have used
    sdk = Sdk.attach(Client.connect(node_export.sdk.client.url), node_export.out / "deployments", "demo")
    certifier = _account("certifier")
    mine = _account("mine-a")
    origin = node_export.result.batches["apt-mine-a"]
    facility = sdk.batches.get(sdk.batches.parents(sdk.batches.parents(origin)[0])[0]).facility_id
    lot = sdk.batches.mint(mine, facility, Stage.CONCENTRATE, 1_000_000, 500_000).value
    schema = sdk.attestations.schema_id("origin-verified")
    uid = sdk.attestations.attest(certifier, AttestationRequest(schema, lot, b"\x11" * 32, 0)).value
    out, folder = tmp_path / "lot.dcc.jwt", tmp_path / "published"
    exported = CliRunner().invoke(
        cli,
        ["export", str(lot), "--format", "untp-dcc", "--attestation", uid, "--status-url", BASE,
         "--dev-account", "certifier", "--out", str(out), *chain_args(node_export)],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    publish = ["status", "publish", "--url", BASE, "--out", str(folder), "--dev-account", "certifier"]
    listed = folder / "status" / "1337" / certifier.address
    lists = ["--status", str(listed / "dcc-revocation.jwt"), "--status", str(listed / "dcc-suspension.jwt")]
    verify = ["verify", str(out), "--trust", str(node_export.result.trust_anchor), *lists]
    first = CliRunner().invoke(cli, [*publish, *chain_args(node_export), "--json"])
    assert first.exit_code == 0, first.output
    assert CliRunner().invoke(cli, verify).exit_code == 0
    sdk.attestations.revoke(certifier, uid)
    still = CliRunner().invoke(cli, verify)
    assert still.exit_code == 0, "the old list does not know yet"
    again = CliRunner().invoke(cli, [*publish, *chain_args(node_export), "--json"])
    assert again.exit_code == 0, again.output
    index = int(_payload(out.read_text())["credentialStatus"][0]["statusListIndex"])
    rows = {r["list"]: r for r in json.loads(again.output)["lists"]}
    assert index in rows["dcc-revocation"]["set"] and index not in rows["dcc-suspension"]["set"]
    revoked = CliRunner().invoke(cli, verify)
    assert revoked.exit_code == 1 and "revoked at block" in revoked.output, revoked.output
    # freezing the attested lot suspends the credential (and the lot's DPPs), unfreezing lifts it
    regulator = _account("regulator")
    sdk.batches.freeze(regulator, lot)
    frozen = sdk.publish_status(certifier, BASE)
    assert index in next(f for f in frozen if f.name == "dcc-suspension").indices
    assert lot in next(f for f in frozen if f.name == "dpp-suspension").indices
    sdk.batches.unfreeze(regulator, lot)
    lifted = sdk.publish_status(certifier, BASE)
    assert index not in next(f for f in lifted if f.name == "dcc-suspension").indices


@pytest.mark.slow
def test_a_list_signed_by_someone_else_fails(node_export: Exported, published: Path) -> None:
    token = node_export.result.passports["origin-dcc"].read_text()
    genuine = _lists(published, "certifier", "dcc")
    forged = StatusList.read(untp.sign(genuine[0].credential, _account("fab").key))
    report = untp.verify_credential(token, node_export.trust, [forged, genuine[1]])
    assert any("signature" in f.where and "signed by" in f.reason for f in report.failures), report.failures
    # the fab's own lists are not the certifier's, whatever they say
    report = untp.verify_credential(token, node_export.trust, _lists(published, "fab", "dpp"))
    assert any("names no such status list" in f.reason for f in report.failures), report.failures


@pytest.mark.slow
def test_every_field_of_a_list_changed_fails_naming_it(node_export: Exported, published: Path) -> None:
    token = node_export.result.passports["origin-dcc"].read_text()
    genuine = _lists(published, "certifier", "dcc")
    assert untp.verify_credential(token, node_export.trust, genuine).ok
    key = _account("certifier").key
    vc = genuine[0].credential
    paths = _leaves(vc)
    assert len(paths) >= 16
    for path in paths:
        changed = json.loads(json.dumps(vc))
        target = changed
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = _mutate(target[path[-1]])
        # re-signed by the issuer: each field is checked for itself ...
        report = untp.verify_credential(
            token, node_export.trust, [StatusList.read(untp.sign(changed, key)), genuine[1]]
        )
        named = _dotted(tuple(k for k in path if not isinstance(k, int)))
        said = [str(f) for f in report.failures]
        assert not report.ok, f"{named} changed, yet verified"
        if path == ("id",):
            assert any("names no such status list" in s for s in said), said
        elif path[0] == "evidence" and path[-1] in ("blockNumber", "blockHash", "chainId"):
            assert any("evidence.id" in s or f"evidence.{path[-1]}" in s for s in said), (named, said)
        else:
            assert any(named.split(".")[-1] in s for s in said), (named, said)
        # ... and not re-signed, the signature fails
        header, _payload_part, signature = genuine[0].token.split(".")
        body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
        with pytest.raises(CredentialError, match="signature does not verify"):
            StatusList.read(f"{header}.{body}.{signature}")


@pytest.mark.slow
def test_a_stale_or_early_list_fails(node_export: Exported, published: Path) -> None:
    token = node_export.result.passports["origin-dcc"].read_text()
    genuine = _lists(published, "certifier", "dcc")
    later = datetime.now(tz=UTC) + timedelta(days=2)
    report = untp.verify_credential(token, node_export.trust, genuine, now=later)
    assert any("expired at" in f.reason and "fetch a fresh list" in f.reason for f in report.failures)
    earlier = datetime.now(tz=UTC) - timedelta(days=1)
    report = untp.verify_credential(token, node_export.trust, genuine, now=earlier)
    assert any("in the future" in f.reason for f in report.failures)
    # a list derived before the credential's block cannot speak for it
    sdk = node_export.sdk
    block = node_export.wf6.chain.as_of_block
    old = {
        i.name: StatusList.read(i.content.decode())
        for i in sdk.publish_status(
            _account("certifier"), "https://id.mineral-passport.example", block=block - 5
        )
    }
    report = untp.verify_credential(token, node_export.trust, [old["dcc-revocation"], old["dcc-suspension"]])
    assert any("before the credential's" in f.reason for f in report.failures), report.failures


@pytest.mark.slow
def test_changed_status_entries_fail_naming_them(node_export: Exported) -> None:
    token = node_export.result.passports["wf6-untp-dpp"].read_text()
    vc = _payload(token)
    fab = _account("fab")
    assert untp.verify_credential(token, node_export.trust).ok
    cases = {
        "statusListIndex": lambda e: e.update(statusListIndex="3", id=e["statusListCredential"] + "#3"),
        "statusListCredential": lambda e: e.update(
            statusListCredential=e["statusListCredential"].replace("dpp-", "dcc-"),
        ),
        "id": lambda e: e.update(id=e["id"] + "0"),
        "type": lambda e: e.update(type="StatusList2021Entry"),
    }
    for name, change in cases.items():
        changed = json.loads(json.dumps(vc))
        change(changed["credentialStatus"][0])
        report = untp.verify_credential(untp.sign(changed, fab.key), node_export.trust)
        assert any(f"credentialStatus[0].{name}" in f.where for f in report.failures), (name, report.failures)
    one = json.loads(json.dumps(vc))
    one["credentialStatus"] = one["credentialStatus"][:1]
    report = untp.verify_credential(untp.sign(one, fab.key), node_export.trust)
    assert any("one entry each of revocation, suspension" in f.reason for f in report.failures)


@pytest.mark.slow
def test_the_resolver_serves_the_lists_and_verify_fetches_them(
    node_export: Exported, published: Path
) -> None:
    resolver = Resolver(node_export.sdk, node_export.trust, published=published)
    server = make_server(resolver, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        certifier = _account("certifier").address
        path = f"/status/1337/{certifier.lower()}/dcc-revocation"
        answer = resolver.handle("GET", path, {}, "tests")
        assert answer.status == 200 and answer.content_type == "application/vc+jwt"
        assert answer.body == (published / "status" / "1337" / certifier / "dcc-revocation.jwt").read_bytes()
        for missing in (f"/status/1337/{certifier}/dcc-expiry", f"/status/9/{certifier}/dcc-revocation"):
            assert resolver.handle("GET", missing, {}, "tests").status == 404
        trust = str(node_export.result.trust_anchor)
        lists = [f"{base}/status/1337/{certifier}/dcc-{p}" for p in ("revocation", "suspension")]
        revoked = CliRunner().invoke(
            cli,
            ["verify", str(node_export.result.passports["labour-audit-dcc"]), "--trust", trust,
             "--status", lists[0], "--status", lists[1]],
        )  # fmt: skip
        assert revoked.exit_code == 1 and "revoked at block" in revoked.output, revoked.output
        away = CliRunner().invoke(
            cli,
            ["verify", str(node_export.result.passports["origin-dcc"]), "--trust", trust,
             "--status", f"{base}/status/1337/{_account('admin').address}/dcc-revocation"],
        )  # fmt: skip
        assert away.exit_code == 1 and "cannot read it" in str(away.exception)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.slow
def test_status_options_are_checked(node_export: Exported, tmp_path: Path) -> None:
    wf6 = str(node_export.result.batches["wf6"])
    args = chain_args(node_export)
    dte = CliRunner().invoke(
        cli,
        ["export", wf6, "--format", "untp-dte", "--status-url", BASE, "--dev-account", "fab",
         "--out", str(tmp_path / "x.jwt"), *args],
    )  # fmt: skip
    assert dte.exit_code == 2 and "--status-url goes with --format untp-dpp or untp-dcc" in dte.output
    ftp = CliRunner().invoke(
        cli,
        ["export", wf6, "--format", "untp-dpp", "--status-url", "ftp://x", "--dev-account", "fab",
         "--out", str(tmp_path / "x.jwt"), *args],
    )  # fmt: skip
    assert ftp.exit_code == 2 and "not an http(s) URL" in ftp.output
    ttl = CliRunner().invoke(
        cli,
        [
            "status",
            "publish",
            "--url",
            BASE,
            "--out",
            str(tmp_path),
            "--ttl",
            "0d",
            "--dev-account",
            "fab",
            *args,
        ],
    )
    assert ttl.exit_code == 2 and "--ttl" in ttl.output
    assert not (tmp_path / "status").exists()
    on_passport = CliRunner().invoke(
        cli, ["verify", str(node_export.result.passports["wf6-with-evidence"]), "--trust",
              str(node_export.result.trust_anchor), "--status", "x.jwt"],
    )  # fmt: skip
    assert on_passport.exit_code == 2 and "--status goes with a credential" in on_passport.output
