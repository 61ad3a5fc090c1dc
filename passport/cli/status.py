"""``passport status``: an issuer's credential status lists (W3C Bitstring Status List), derived
from the chain, signed, and published where its credentials say they are."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from passport._utils.files import atomic_write
from passport.cli._common import (
    ChainArgs,
    SignerArgs,
    chain_options,
    duration,
    emit,
    http_url,
    json_option,
    signer_options,
)
from passport.exceptions import CredentialError, PassportFileInvalid


@click.group("status")
def status() -> None:
    """Credential status lists (revocation, suspension) of a DPP or DCC issuer."""


@status.command("publish")
@click.option(
    "--url",
    "base_url",
    envvar="PASSPORT_STATUS_URL",
    required=True,
    callback=http_url,
    help="Base URL the lists are published under (the resolver's --public-url), as the credentials "
    "name it: export --status-url (env PASSPORT_STATUS_URL).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The folder `passport serve --published` serves; the lists go to status/<chainId>/<issuer>/.",
)
@click.option("--ttl", default="1d", show_default=True, help="How long a list is fresh (s, m, h or d).")
@click.option("--did-web", default=None, help="Issue as did:web:DOMAIN, as the DPPs were.")
@click.option(
    "--block", type=click.IntRange(min=0), default=None, help="Derive at this block (default: head)."
)
@signer_options
@chain_options
def publish(
    base_url: str,
    out: Path,
    ttl: str,
    did_web: str | None,
    block: int | None,
    sender: SignerArgs,
    chain: ChainArgs,
) -> None:
    """Derive the signer's four status lists from the chain (DPPs: revoked when the batch is
    tainted, suspended while it is frozen or its facility flagged; DCCs: revoked when the
    attestation is revoked, suspended while its subject is frozen or flagged), sign them as
    vc+jwt, and write them under OUT."""
    fresh_for = timedelta(seconds=duration(ttl, "--ttl"))
    signer = sender.account()
    sdk = chain.sdk()
    published = sdk.publish_status(signer, base_url, fresh_for, did_web, block)
    rows = []
    for item in published:
        path = out / "status" / f"{item.url.rsplit('/status/', 1)[1]}.jwt"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, item.content)
        rows.append({"list": item.name, "url": item.url, "file": str(path), "set": list(item.indices)})
    at = published[0].block if published else block
    human = f"status lists of {signer.address} at block {at}, fresh for {ttl}:\n" + "\n".join(
        f"  {r['list']:<15} {len(r['set']):>4} set  {r['file']}" for r in rows
    )
    emit(chain.as_json, {"issuer": signer.address, "block": at, "lists": rows}, human)


@status.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def show(file: Path, as_json: bool) -> None:
    """Read a status list FILE (vc+jwt): its issuer, purpose, block, validity and the bits set.
    Its signature is checked; whether the issuer is the credential's is `verify --status`'s work."""
    from passport.formats.untp.status import StatusList, decode_list

    try:
        read = StatusList.read(file.read_text())
        subject = read.credential["credentialSubject"]
        bits = decode_list(subject["encodedList"])
        evidence = read.credential["evidence"][0]
    except OSError as exc:
        raise PassportFileInvalid(str(file), exc.strerror or "unreadable", "status list") from exc
    except CredentialError as exc:
        raise PassportFileInvalid(str(file), str(exc), "status list") from exc
    except (KeyError, IndexError, TypeError) as exc:
        raise PassportFileInvalid(str(file), f"no {exc}", "status list") from exc
    indices = [n * 8 + i for n, byte in enumerate(bits) if byte for i in range(8) if byte & (0x80 >> i)]
    data = {
        "id": read.id,
        "issuer": read.credential.get("issuer", {}).get("id"),
        "signer": read.signer,
        "purpose": subject.get("statusPurpose"),
        "block": evidence.get("blockNumber"),
        "validFrom": read.credential.get("validFrom"),
        "validUntil": read.credential.get("validUntil"),
        "bits": len(bits) * 8,
        "set": indices,
    }
    human = (
        f"{file}: {data['purpose']} list {data['id']}\n  issuer {data['issuer']} (signed by {read.signer})\n"
        f"  derived at block {data['block']}, valid {data['validFrom']} to {data['validUntil']}\n"
        f"  {len(indices)} of {data['bits']} bits set"
        + (f": {', '.join(map(str, indices))}" if indices else "")
    )
    emit(as_json, data, human)
