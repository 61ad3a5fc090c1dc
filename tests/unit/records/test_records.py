"""Records without a chain: schema errors name the field, salts are kept for unchanged fields,
disclosures verify and every kind of tampering is named, tiers narrow, packages encrypt to a
key, and the vault's writes are atomic and its pending puts settle against the chain's roots."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_keys.datatypes import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from passport.exceptions import RecordError
from passport.records.disclosure import Disclosure, Package, builtin_tiers, disclose, load_tier
from passport.records.envelope import EncryptedPackage, decrypt, encrypt, read_package
from passport.records.fields import flatten, leaf_hash, salt_record, unflatten, validate
from passport.records.names import Names
from passport.records.vault import Ref, Vault

FACILITY: dict[str, Any] = {
    "name": "Mine A",
    "kind": "MINE",
    "address": {"city": "Lang Son", "region": "Lang Son Province", "country": "VN"},
    "coordinates": {"latitude": 21.85, "longitude": 106.76},
    "licence": {"number": "GP-0990", "authority": "MONRE"},
}


def _salted() -> Any:
    return salt_record("facility", "1", FACILITY, None)


# ------------------------------------------------------------------ records


def test_schema_errors_name_every_bad_field() -> None:
    bad = {**FACILITY, "kind": "QUARRY", "address": {"city": "", "country": "Vietnam"}, "colour": "red"}
    with pytest.raises(RecordError) as exc:
        validate("facility", bad)
    text = str(exc.value)
    assert text.startswith("facility record: ")
    assert "kind: 'QUARRY' is not one of" in text
    assert "address.country: 'Vietnam' does not match" in text
    assert "address.city: '' should be non-empty" in text
    assert "'colour' was unexpected" in text
    with pytest.raises(RecordError, match=r"member record: .*'legalName' is a required property"):
        validate(
            "member",
            {"registration": {"scheme": "LEI", "id": "x"}, "address": {"city": "A", "country": "VN"}},
        )
    with pytest.raises(RecordError, match="unknown record kind"):
        validate("ship", {})
    with pytest.raises(RecordError, match="rmiSmelterId: 'CID1' does not match"):
        validate("facility", {**FACILITY, "rmiSmelterId": "CID1"})


def test_fields_flatten_to_dotted_paths_and_back() -> None:
    fields = flatten(FACILITY)
    assert fields["address.city"] == "Lang Son"
    assert fields["coordinates.latitude"] == 21.85
    assert unflatten(fields) == FACILITY
    doc = {
        "documents": {
            "assay": {"name": "a.pdf", "mediaType": "application/pdf", "sha256": "00" * 32, "size": 1}
        }
    }
    assert list(flatten(doc)) == ["documents.assay"]  # a file reference is one field


def test_unchanged_fields_keep_their_salts() -> None:
    first = _salted()
    again = salt_record("facility", "1", FACILITY, first)
    assert again == first and again.root == first.root
    moved = salt_record(
        "facility", "1", {**FACILITY, "licence": {"number": "GP-0991", "authority": "MONRE"}}, first
    )
    assert moved.root != first.root
    changed = {p for p in first.fields if first.fields[p] != moved.fields[p]}
    assert changed == {"licence.number"}
    fresh = salt_record("facility", "1", FACILITY, None)
    assert fresh.root != first.root  # new salts: the same values are not linkable across records
    assert all(len(bytes.fromhex(f.salt[2:])) == 32 for f in first.fields.values())


# ------------------------------------------------------------------ disclosures


def test_disclosure_reveals_by_tier_and_verifies() -> None:
    record = _salted()
    buyer = disclose(record, load_tier("buyer").patterns("facility"))
    assert set(buyer.revealed) == {"name", "kind", "address.city", "address.region", "address.country",
                                   "licence.number", "licence.authority"}  # fmt: skip
    assert set(buyer.withheld) == {"coordinates.latitude", "coordinates.longitude"}
    assert buyer.root == "0x" + record.root.hex()
    assert buyer.check() == []
    public = buyer.restricted(load_tier("public").patterns("facility"))
    assert set(public.revealed) == {"kind", "address.country"}
    assert public.root == buyer.root and public.check() == []
    everything = disclose(record, load_tier("authority").patterns("facility"))
    assert not everything.withheld and everything.check() == []
    nothing = disclose(record, [])
    assert not nothing.revealed and not nothing.proof and nothing.check() == []
    assert sorted(builtin_tiers()) == ["authority", "buyer", "public"]


def _edit(d: Disclosure, change: Any) -> Disclosure:
    data = json.loads(d.model_dump_json())
    change(data)
    return Disclosure.model_validate(data)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["revealed"]["name"].update(value="Mine Z"), "field name"),
        (lambda d: d["revealed"]["licence.number"].update(salt="0x" + "11" * 32), "field licence.number"),
        (lambda d: d["revealed"]["address.city"].update(value=" Lang Son"), "field address.city"),
        (lambda d: d.update(proof=[d["proof"][0][:-2] + "00", *d["proof"][1:]]), "proof"),
        (lambda d: d.update(flags=[not f for f in d["flags"]]), "proof"),
        (lambda d: d.update(root="0x" + "22" * 32), "proof"),
        (lambda d: d["withheld"].update({"coordinates.latitude": "0x" + "33" * 32}), "withheld"),
        (lambda d: d["withheld"].pop("coordinates.longitude"), "withheld"),
        (lambda d: d["withheld"].update({"name": d["revealed"]["name"]["leaf"]}), "field name"),
    ],
)
def test_every_tampering_is_named(change: Any, where: str) -> None:
    good = disclose(_salted(), load_tier("buyer").patterns("facility"))
    failures = _edit(good, change).check()
    assert failures, "tampering went unnoticed"
    assert any(
        what.endswith(where) or f"{where} " in what or what.endswith(f" {where}") for what, _ in failures
    ), failures


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(max_size=20), min_size=1, max_size=12),
       st.data())  # fmt: skip
def test_any_subset_discloses_and_verifies(values: dict[str, str], data: st.DataObject) -> None:
    record = {
        "legalName": "X",
        "registration": {"scheme": "LEI", "id": "1"},
        "address": {"city": "C", "country": "VN"},
    }
    salted = salt_record("member", "0x" + "ab" * 20, record, None)
    # arbitrary extra fields are not in the member schema: build the record directly
    from passport.records.fields import SaltedField, SaltedRecord

    fields = {
        **salted.fields,
        **{f"x.{k}": SaltedField(value=v, salt="0x" + os.urandom(32).hex()) for k, v in values.items()},
    }
    rec = SaltedRecord(kind="member", subject=salted.subject, fields=fields)
    picked = data.draw(st.lists(st.sampled_from(sorted(fields)), unique=True))
    d = disclose(rec, picked)
    assert set(d.revealed) == set(picked)
    assert d.check() == []
    assert d.root == "0x" + rec.root.hex()


def test_leaf_is_oz_standard_leaf_of_path_value_salt() -> None:
    from eth_abi import encode
    from eth_utils import keccak

    salt = b"\x07" * 32
    expected = keccak(keccak(encode(["string", "string", "bytes32"], ["address.city", '"Lang Son"', salt])))
    assert leaf_hash("address.city", "Lang Son", salt) == expected


def test_tier_files_are_validated(tmp_path: Path) -> None:
    own = tmp_path / "auditor.json"
    own.write_text(json.dumps({"tier": "auditor", "reveal": {"facility": ["licence.*"]}}))
    assert load_tier(str(own)).patterns("facility") == ["licence.*"]
    assert load_tier(str(own)).patterns("member") == []
    own.write_text(json.dumps({"tier": "auditor", "reveal": {"ship": ["*"]}}))
    with pytest.raises(RecordError, match=r"reveal\.ship"):
        load_tier(str(own))
    with pytest.raises(RecordError, match="no such tier; shipped tiers: authority, buyer, public"):
        load_tier("friends")


def test_names_show_disclosed_and_withheld() -> None:
    class Doc:
        def __init__(self, disclosures: list[Disclosure]) -> None:
            self.disclosures = disclosures
            self.facilities = [type("F", (), {"facility_id": 1, "operator": "0x" + "ab" * 20})()]

    record = _salted()
    buyer = Names(Doc([disclose(record, load_tier("buyer").patterns("facility"))]))
    assert buyer.facility(1, "VN") == "Mine A (Lang Son, VN)"
    public = Names(Doc([disclose(record, load_tier("public").patterns("facility"))]))
    assert public.facility(1, "VN") == "facility 1 (VN; name withheld)"
    assert Names(Doc([])).facility(1, "VN") == "facility 1 (VN)"


# ------------------------------------------------------------------ packages


def test_packages_encrypt_to_the_recipient_key_only(tmp_path: Path) -> None:
    package = Package(chain_id=1337, batch_id=7, tier="buyer", disclosures=[disclose(_salted(), ["name"])])
    buyer, other = Account.create(), Account.create()
    public = "0x" + PrivateKey(buyer.key).public_key.to_bytes().hex()
    sealed = encrypt(package, public)
    assert sealed.recipient == buyer.address
    path = tmp_path / "pkg.json"
    sealed.save(path)
    assert "Mine A" not in path.read_text()
    loaded = read_package(path)
    assert isinstance(loaded, EncryptedPackage)
    assert decrypt(loaded, buyer, "pkg") == package
    with pytest.raises(RecordError, match=f"encrypted to {buyer.address}, not to {other.address}"):
        decrypt(loaded, other, "pkg")
    raw = bytearray(loaded.ciphertext.encode())
    raw[100] = ord("A") if raw[100] != ord("A") else ord("B")
    broken = loaded.model_copy(update={"ciphertext": raw.decode()})
    with pytest.raises(RecordError, match="cannot decrypt"):
        decrypt(broken, buyer, "pkg")
    with pytest.raises(RecordError, match="not a secp256k1 public key"):
        encrypt(package, "0x1234")
    path.write_text('{"kind": "something-else"}')
    with pytest.raises(RecordError, match="is not 'mineral-passport/disclosures@1'"):
        read_package(path)


# ------------------------------------------------------------------ vault


def test_vault_is_content_addressed_and_clears_interrupted_writes(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "v")
    record = _salted()
    digest = vault.store_record(record)
    assert vault.store_record(record) == digest
    assert vault.record(digest) == record
    (tmp_path / "v" / "tmp" / "half-written").write_bytes(b"{")
    vault = Vault(tmp_path / "v")
    assert not list((tmp_path / "v" / "tmp").iterdir())
    (tmp_path / "v" / "objects" / digest).write_bytes(b"{}")
    with pytest.raises(RecordError, match="does not match its address"):
        vault.record(digest)
    (tmp_path / "v" / "VERSION").write_text("other/9\n")
    with pytest.raises(RecordError, match="format 'other/9'"):
        Vault(tmp_path / "v")


def test_pending_put_settles_against_the_chain(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "v")
    old, new = _salted(), salt_record("facility", "1", {**FACILITY, "name": "Mine A2"}, None)
    a, b = vault.store_record(old), vault.store_record(new)
    vault.set_ref("facility", "1", Ref(a, b))
    assert vault.reconcile("facility", "1", {old.root}) == Ref(a, None)  # the new root never landed
    vault.set_ref("facility", "1", Ref(a, b))
    assert vault.reconcile("facility", "1", {new.root}) == Ref(b, None)  # it landed before the crash
    assert vault.current("facility", "1") == new
    with pytest.raises(RecordError, match="not a member address or a numeric id"):
        vault.ref("facility", "../../etc")


def test_received_disclosures_merge_per_root(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "v")
    record = _salted()
    assert vault.receive(disclose(record, ["name"]))
    assert not vault.receive(disclose(record, ["name"]))
    assert vault.receive(disclose(record, ["licence.number"]))
    (merged,) = vault.received()
    assert set(merged.revealed) == {"name", "licence.number"} and merged.check() == []


def test_published_record_schemas_are_the_package_ones() -> None:
    from passport.toolchain.compiler import REPO_ROOT

    package = REPO_ROOT / "passport" / "records" / "schemas"
    published = REPO_ROOT / "schemas" / "records"
    assert sorted(p.name for p in package.glob("*.json")) == sorted(p.name for p in published.glob("*.json"))
    for path in package.glob("*.json"):
        assert (published / path.name).read_text() == path.read_text(), f"copy {path} to {published}"
