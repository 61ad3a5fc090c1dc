"""``passport passport``: show, export, verify and policy-check Digital Mineral Passports."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from passport._utils.files import atomic_write
from passport.cli._common import (
    ChainArgs,
    SignerArgs,
    chain_options,
    emit,
    http_url,
    json_option,
    network_anchor,
    signer_options,
    stdout,
    vault_option,
)
from passport.cli.render import lineage_tree, policy_table
from passport.core.document import PassportDocument, Weighing, json_schema
from passport.core.policy import builtin_policies, load_policy
from passport.core.policy import check as check_policy
from passport.evidence import OfflineReport, verify_offline
from passport.evidence.trust import AnyTrustAnchor, load_trust_anchor
from passport.exceptions import CredentialError, PassportError, PassportFileInvalid, RpcUnreachable

# Loaded by the commands that need them, so that `passport verify` starts quickly: the UNTP and
# EPCIS formats, labels, records and the SDK (web3).
if TYPE_CHECKING:
    from passport.formats.untp.status import StatusList


@click.group("passport")
def passport_group() -> None:
    """Digital Mineral Passports: show, export, verify, check."""


@passport_group.command("show")
@click.argument("batch_id", type=int)
@click.option(
    "--tier", default=None, help="Show the vault's disclosures of the lineage at this tier (names)."
)
@vault_option
@chain_options
def show(batch_id: int, tier: str | None, vault_dir: Path, chain: ChainArgs) -> None:
    """Assemble BATCH_ID's passport from the chain and print it (a lineage tree, or --json); with
    --tier, with the names and records the vault may disclose at that tier."""
    from passport.records.disclosure import load_tier
    from passport.records.vault import Vault

    sdk = chain.sdk()
    doc = sdk.passport_for(batch_id)
    if tier is not None:
        package = sdk.records.share(Vault(vault_dir), doc, load_tier(tier))
        doc = doc.model_copy(update={"tier": package.tier, "disclosures": package.disclosures})
    emit(chain.as_json, doc, lambda: stdout.print(lineage_tree(doc)))


@passport_group.command("export")
@click.argument("batch_id", type=int, required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["passport", "untp-dpp", "untp-dte", "untp-dcc", "epcis", "untp-dfr"]),
    default="passport",
    show_default=True,
    help="passport: our JSON (schemas/passport.schema.json); untp-dpp: a UNTP Digital Product Passport "
    "as a vc+jwt signed by the exporting member (--keystore or --dev-account); untp-dte: the lineage's "
    "events as a UNTP Digital Traceability Event vc+jwt, signed the same way; untp-dcc: an attestation "
    "(--attestation UID) as a UNTP Digital Conformity Credential signed by its certifier; epcis: the "
    "lineage's events as a GS1 EPCIS 2.0 document; untp-dfr: a facility (--facility ID, no BATCH_ID) "
    "as a UNTP Digital Facility Record signed by its operator, its record disclosed from --vault at "
    "--tier (default public).",
)
@click.option(
    "--facility",
    "facility_id",
    type=click.IntRange(min=1),
    default=None,
    help="untp-dfr: the facility.",
)
@click.option(
    "--evidence/--no-evidence",
    default=True,
    show_default=True,
    help="Carry the proofs (headers, seals, state and receipt proofs) for offline verification.",
)
@click.option("--block", type=click.IntRange(min=0), default=None, help="Read the passport at this block.")
@click.option(
    "--tier",
    default=None,
    help="Include the vault's disclosures of the lineage at this tier (public, buyer, authority, or a file).",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    help="untp-dpp: a policy (shipped name or file) stated as a conformity claim; default: the shipped ones.",
)
@click.option("--attestation", "attestation_uid", default=None, help="untp-dcc: the attestation's id (0x…).")
@click.option(
    "--did-web",
    default=None,
    help="untp-dpp/dte: issue as did:web:DOMAIN; the member's profile must name it (didWeb) and be "
    "disclosed at --tier. Writes did.json beside --out, to publish at the domain.",
)
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A CometBFT network: the buyer's trust anchor (trust-anchor@2); the evidence carries the "
    "light-client path from its height, and the export is checked against it.",
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="With --tier: export even when the vault lacks records or fields the tier reveals; they "
    "are listed in the file (tier_missing) and the verdict says the passport is incomplete.",
)
@click.option(
    "--status-url",
    envvar="PASSPORT_STATUS_URL",
    default=None,
    callback=http_url,
    help="untp-dpp/untp-dcc: the base URL the signer's status lists are published under (`status "
    "publish --url`); the credential names its bit in them (env PASSPORT_STATUS_URL).",
)
@click.option(
    "--readings",
    "readings_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A device reading that weighed a lot of the lineage (from `telemetry weighing`); repeatable. "
    "Checked against the chain, carried in the passport and checked offline.",
)
@vault_option
@signer_options
@chain_options
def export(
    batch_id: int | None,
    out: Path,
    fmt: str,
    facility_id: int | None,
    evidence: bool,
    block: int | None,
    tier: str | None,
    policies: tuple[str, ...],
    attestation_uid: str | None,
    did_web: str | None,
    trust_file: Path | None,
    allow_missing: bool,
    status_url: str | None,
    readings_files: tuple[Path, ...],
    vault_dir: Path,
    sender: SignerArgs,
    chain: ChainArgs,
) -> None:
    """Write BATCH_ID's passport as JSON with its evidence (and, with --tier, the disclosed fields
    of its lineage's records), or as a signed UNTP credential (--format untp-dpp). Prints the
    passport version's hash (SHA-256 of its RFC 8785 form)."""
    from eth_keys.datatypes import PrivateKey

    from passport.formats import untp

    if fmt == "untp-dfr" or facility_id is not None:
        _export_dfr(batch_id, facility_id, fmt, out, block, tier, trust_file, vault_dir, sender, chain)
        return
    if batch_id is None:
        raise click.UsageError("give the BATCH_ID to export (or --format untp-dfr --facility ID)")
    if tier is not None and not evidence:
        raise click.UsageError("--tier needs the evidence: the disclosures' roots are proven by it")
    if allow_missing and tier is None:
        raise click.UsageError("--allow-missing goes with --tier")
    if fmt != "passport" and not evidence:
        raise click.UsageError(f"--format {fmt} embeds the evidence; drop --no-evidence")
    if (fmt == "untp-dcc") != (attestation_uid is not None):
        raise click.UsageError("--attestation UID goes with --format untp-dcc, and only with it")
    if did_web is not None and fmt not in ("untp-dpp", "untp-dte"):
        raise click.UsageError("--did-web goes with --format untp-dpp or untp-dte")
    if status_url is not None and fmt not in ("untp-dpp", "untp-dcc"):
        source = click.get_current_context().get_parameter_source("status_url")
        if source != click.core.ParameterSource.ENVIRONMENT:  # the environment's applies where it can
            raise click.UsageError("--status-url goes with --format untp-dpp or untp-dcc")
        status_url = None
    if trust_file is not None and not evidence:
        raise click.UsageError("--trust goes with the evidence; drop --no-evidence")
    trust = network_anchor(trust_file)
    if readings_files and not evidence:
        raise click.UsageError("--readings goes with the evidence; drop --no-evidence")
    readings = [w for f in readings_files for w in _weighings(f)]
    signer = sender.account() if fmt.startswith("untp-") else None
    sdk = chain.sdk()
    if block is None and evidence:
        block = sdk.client.head()[0]
    exported = sdk.export(
        batch_id,
        fmt,
        tier,
        block=block,
        vault=vault_dir if tier is not None else None,
        evidence=evidence,
        signer=signer,
        policies=policies,
        attestation=attestation_uid,
        did_web=did_web,
        trust=trust,
        allow_missing=allow_missing,
        readings=readings,
        status_url=status_url,
    )
    doc = exported.document
    assert doc.version is not None
    data: dict[str, Any] = {
        "batchId": batch_id,
        "file": str(out),
        "format": fmt,
        "asOfBlock": doc.chain.as_of_block,
        "versionHash": doc.version.hash,
    }
    if signer is not None and did_web is not None:
        try:
            named = untp.web_issuer(doc, f"did:web:{did_web}")
        except CredentialError as exc:
            raise click.UsageError(f"{exc}; put it in your profile (didWeb) and export with --tier") from exc
        if named != signer.address:
            raise click.UsageError(f"did:web:{did_web} is {named}'s, not {signer.address}'s")
        key = PrivateKey(signer.key).public_key
        did_json = out.with_name("did.json")
        atomic_write(
            did_json,
            json.dumps(untp.did_document(did_web, doc.chain.chain_id, signer.address, key), indent=2) + "\n",
        )
        data["didDocument"] = str(did_json)
    atomic_write(out, exported.content)
    if exported.issuer is not None:
        data["issuer"] = exported.issuer
    if fmt == "epcis":
        data["events"] = len(json.loads(exported.content)["epcisBody"]["eventList"])
    if doc.evidence is not None:
        headers, seals, nodes = doc.evidence.unpack()
        data["evidence"] = {
            "headers": len(headers),
            "sealedHeaders": sum(1 for s in seals if s),
            "commits": (
                len(doc.evidence.consensus.path) + len(doc.evidence.consensus.commits)
                if doc.evidence.consensus is not None
                else 0
            ),
            "receipts": len(doc.evidence.receipts),
            "trieNodes": len(nodes),
            "bytes": out.stat().st_size,
        }
    human = f"wrote {out}" + (
        f" (evidence: {data['evidence']['headers']} headers, {data['evidence']['receipts']} receipts, "
        f"{data['evidence']['trieNodes']} trie nodes)"
        if doc.evidence is not None
        else ""
    )
    if signer is not None:
        human += f"\nissuer {data['issuer']}"
    if fmt in ("untp-dpp", "untp-dcc"):
        data["statusLists"] = status_url is not None
        if status_url is None:
            human += "\nno --status-url: it names no status list, so a wallet cannot learn of a revocation"
    human += f"\nversion {doc.version.hash}"
    emit(chain.as_json, data, human)


@passport_group.command("qr")
@click.argument("batch_id", type=int)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="label.svg or label.png"
)
@click.option(
    "--resolver",
    envvar="PASSPORT_RESOLVER",
    required=True,
    help="Host of the resolver that answers the label's URL, e.g. id.example.com (env PASSPORT_RESOLVER).",
)
@vault_option
@chain_options
def qr(batch_id: int, out: Path, resolver: str, vault_dir: Path, chain: ChainArgs) -> None:
    """Write a QR label for BATCH_ID: a GS1 Digital Link when the vault knows the batch's GTIN,
    https://RESOLVER/passport/<chainId>/<batchId> otherwise, with a readable line under the code."""
    from passport.formats import label
    from passport.formats.identifiers import Identifiers
    from passport.records.disclosure import load_tier
    from passport.records.vault import Vault

    sdk = chain.sdk()
    doc = sdk.passport_for(batch_id)
    if vault_dir.is_dir():
        known = sdk.records.share(Vault(vault_dir), doc, load_tier("authority"))
        doc = doc.model_copy(update={"disclosures": known.disclosures})
    gtin = Identifiers(doc).gtin(batch_id)
    url = label.passport_url(resolver, doc.chain.chain_id, batch_id, gtin)
    p = doc.product
    caption = f"{p.stage.name} batch {batch_id} · {p.mass_grams / 1000:,.1f} kg · {p.country}"
    label.write_label(url, caption, out)
    emit(chain.as_json, {"file": str(out), "url": url, "caption": caption}, f"wrote {out}: {url}")


@passport_group.command("view")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The trust anchor the page verifies the passport against.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the page to write (.html)"
)
@json_option
def view(file: Path, trust: Path, out: Path, as_json: bool) -> None:
    """Write one self-contained HTML page for the passport FILE (or the passport a UNTP .jwt or
    EPCIS file carries) that verifies it in the browser against --trust, offline: it embeds the
    proofs, the anchor, its script and styles, and loads nothing from the network."""
    from passport.viewer import page_title, render_page

    kind, carried = _carried(file)
    if kind == "jwt" and carried is None:
        raise PassportFileInvalid(str(file), "the credential carries no passport")
    doc = carried or PassportDocument.load(file)
    if doc.evidence is None:
        raise PassportFileInvalid(str(file), "no evidence: export it with evidence (the default) to view it")
    anchor = load_trust_anchor(trust)
    passport = json.loads(doc.to_json())
    page = render_page(passport, json.loads(anchor.to_json()), page_title(passport))
    report = verify_offline(doc, anchor)
    try:
        atomic_write(out, page)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from exc
    size = out.stat().st_size
    verdict = "verified" if report.ok else f"{len(report.failures)} failure(s), shown in red on the page"
    emit(
        as_json,
        {"file": str(out), "bytes": size, "ok": report.ok, "failures": [str(f) for f in report.failures]},
        f"wrote {out} ({size / 1024:,.0f} KiB); offline check here: {verdict}",
    )


def _carried(file: Path) -> tuple[str, PassportDocument | None]:
    """What FILE is (``jwt``, ``epcis`` or ``passport``), and the passport a UNTP credential or an
    EPCIS file carries (read without checking anything)."""
    try:
        head = file.read_bytes()[:3]
    except OSError as exc:
        raise PassportFileInvalid(str(file), exc.strerror or "unreadable") from exc
    if head == b"eyJ":  # a compact JWS: base64url of '{"'
        from passport.formats import untp  # JOSE and DIDs: only for a credential

        return "jwt", untp.embedded_passport(file.read_text())
    if head.startswith(b"{"):
        epcis_doc = _epcis_or_none(file)
        if epcis_doc is not None:
            return "epcis", epcis_doc
    return "passport", None


@passport_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Verify offline from the file's evidence against this trust anchor (no network).",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    help="Judge the verified passport by this policy (a shipped name or a policy JSON file; "
    "repeatable): exit 3 when one fails. Without it the shipped policies are reported, not judged.",
)
@click.option(
    "--status",
    "status_lists",
    multiple=True,
    help="A credential: its issuer's status list (a vc+jwt file, or the http(s) URL the credential "
    "names), checked for signature, issuer and freshness; a revoked or suspended credential fails. "
    "Repeatable (revocation and suspension).",
)
@click.option("--verbose", is_flag=True, help="Every completeness statement, disclosure and note.")
@chain_options
def verify(
    file: Path,
    trust: Path | None,
    policies: tuple[str, ...],
    status_lists: tuple[str, ...],
    verbose: bool,
    chain: ChainArgs,
) -> None:
    """Verify FILE (a passport, or a UNTP credential .jwt, or an EPCIS document): offline against a
    trust anchor (--trust), or by re-deriving every field from the chain. Exit 0: authentic (and
    compliant with each --policy); 1: a claim or proof does not hold (each is listed); 3:
    authentic, but a --policy fails."""
    judged = [load_policy(p) for p in policies]  # a bad name or file is refused before any work
    kind, carried = _carried(file)
    if kind != "passport" and trust is None:
        what = "a credential" if kind == "jwt" else "an EPCIS document"
        raise click.UsageError(f"{what} is verified offline: give --trust ANCHOR")
    if status_lists and kind != "jwt":
        raise click.UsageError("--status goes with a credential (.jwt)")
    if trust is not None:
        anchor = load_trust_anchor(trust)
        if kind == "jwt":
            from passport.formats import untp

            lists = [_status_list(s) for s in status_lists]
            report = untp.verify_credential(file.read_text(), anchor, lists)
            doc = carried
        elif kind == "epcis":
            from passport.formats import epcis

            report = epcis.verify_document(file.read_text(), anchor)
            doc = carried
        else:
            doc = PassportDocument.load(file)
            report = verify_offline(doc, anchor)
        if judged and report.ok and doc is not None:
            report.policies = [check_policy(doc, p) for p in judged]
        _print_offline(file, report, doc, chain.as_json, anchor, verbose, judged=bool(judged))
        return
    doc = PassportDocument.load(file)
    try:
        sdk = chain.sdk()
    except RpcUnreachable as exc:
        raise click.ClickException(
            f"{exc.url} does not answer, and without --trust the file is verified online: give "
            "--trust ANCHOR (the consortium's trust anchor) to verify it offline from its evidence"
        ) from exc
    online = sdk.verify(doc)
    data = {
        "ok": online.ok,
        "batchId": online.batch_id,
        "asOfBlock": online.as_of_block,
        "mismatches": [{"path": m.path, "file": m.in_file, "chain": m.on_chain} for m in online.mismatches],
    }
    human = (
        f"{file}: verified against the chain as of block {online.as_of_block}"
        if online.ok
        else (
            f"{file}: {len(online.mismatches)} mismatch(es)\n"
            + "\n".join(f"  {m}" for m in online.mismatches)
        )
    )
    emit(chain.as_json, data, human)
    if not online.ok:
        sys.exit(1)


def _status_list(where: str) -> StatusList:
    """The status list at ``where``: a file, or an http(s) URL (fetched, 10 s, at most 32 MiB).

    Raises:
        PassportFileInvalid: unreadable, unreachable, or not a signed vc+jwt.
    """
    import urllib.error
    import urllib.request

    from passport.formats.untp.status import StatusList

    try:
        if where.startswith(("https://", "http://")):
            request = urllib.request.Request(where, headers={"Accept": "application/vc+jwt"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    text = response.read(32 * 1024 * 1024 + 1).decode()
            except urllib.error.HTTPError as exc:
                exc.close()
                raise PassportFileInvalid(
                    where, f"cannot read it: HTTP {exc.code} {exc.reason}", "status list"
                ) from None
            if len(text) > 32 * 1024 * 1024:
                raise PassportFileInvalid(where, "larger than 32 MiB", "status list")
        else:
            text = Path(where).read_text()
        return StatusList.read(text)
    except OSError as exc:  # urllib's errors are OSErrors
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        raise PassportFileInvalid(where, f"cannot read it: {reason}", "status list") from exc
    except UnicodeDecodeError:
        raise PassportFileInvalid(where, "not text", "status list") from None
    except CredentialError as exc:
        raise PassportFileInvalid(where, str(exc), "status list") from exc


def _export_dfr(
    batch_id: int | None,
    facility_id: int | None,
    fmt: str,
    out: Path,
    block: int | None,
    tier: str | None,
    trust_file: Path | None,
    vault_dir: Path,
    sender: SignerArgs,
    chain: ChainArgs,
) -> None:
    """``export --format untp-dfr --facility ID``: the facility's Digital Facility Record."""
    from passport.sdk.exporting import facility_record

    if fmt != "untp-dfr" or facility_id is None or batch_id is not None:
        raise click.UsageError("--facility ID goes with --format untp-dfr, without a BATCH_ID")
    trust = network_anchor(trust_file)
    vault = vault_dir if tier is not None or vault_dir.is_dir() else None
    record = facility_record(
        chain.sdk(), facility_id, sender.account(), vault, tier or "public", block, trust
    )
    atomic_write(out, record.content)
    emit(
        chain.as_json,
        {"facilityId": facility_id, "file": str(out), "format": fmt, "issuer": record.issuer},
        f"wrote {out}: facility {facility_id}'s Digital Facility Record\nissuer {record.issuer}",
    )


def _weighings(file: Path) -> list[Weighing]:
    """The reading entries in FILE: one (as `telemetry weighing` writes it) or a JSON list."""
    from pydantic import TypeAdapter, ValidationError

    from passport._utils.files import first_error

    try:
        data = json.loads(file.read_text())
        return TypeAdapter(list[Weighing]).validate_python(data if isinstance(data, list) else [data])
    except FileNotFoundError as exc:
        raise PassportFileInvalid(str(file), "no such file", "reading entry") from exc
    except ValidationError as exc:
        raise PassportFileInvalid(str(file), first_error(exc), "reading entry") from exc
    except (OSError, ValueError) as exc:
        raise PassportFileInvalid(str(file), f"not JSON ({exc})", "reading entry") from exc


def _epcis_or_none(file: Path) -> PassportDocument | None:
    """The passport an EPCIS document carries, or None when FILE is not an EPCIS document."""

    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("type") != "EPCISDocument":
        return None
    try:
        return PassportDocument.model_validate(data.get("mp:passport"))
    except ValueError:
        raise PassportFileInvalid(str(file), "an EPCIS document without a readable mp:passport") from None


def _print_offline(
    file: Path,
    report: OfflineReport,
    doc: PassportDocument | None,
    as_json: bool,
    anchor: AnyTrustAnchor | None = None,
    verbose: bool = False,
    judged: bool = False,
) -> None:
    """Two answers: authentic (every claim and proof holds) and compliant (each policy); exit 1
    when not authentic, 3 when authentic but a judged policy (``--policy``) fails."""
    when = datetime.fromtimestamp(doc.chain.as_of_time, tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if doc else "?"
    compliant = report.ok and all(p.ok for p in report.policies)
    code = 1 if not report.ok else 3 if judged and not compliant else 0
    fingerprint = {
        "name": report.consortium,
        "validators": report.validators,
        "genesisHash": anchor.genesis_hash if anchor is not None else None,
        "fingerprint": anchor.fingerprint() if anchor is not None else None,
    }
    data = {
        "ok": report.ok,
        "authentic": report.ok,
        "compliant": compliant if report.policies else None,
        "policiesJudged": judged,
        "exitCode": code,
        "batchId": report.batch_id,
        "asOfBlock": report.as_of_block,
        "consortium": report.consortium,
        "validators": report.validators,
        "anchor": fingerprint,
        "sealed": report.sealed,
        "quorum": report.quorum.to_json() if report.quorum is not None else None,
        "failures": [{"where": f.where, "reason": f.reason} for f in report.failures],
        "notes": report.notes,
        "completeness": report.completeness,
        "policies": report.policies,
        "tier": doc.tier if doc else None,
        "tierCheck": (
            {"name": report.tier, "fingerprint": report.tier_fingerprint, "complete": report.tier_complete}
            if report.tier is not None
            else None
        ),
        "disclosures": [
            {"record": d.label(), "revealed": sorted(d.revealed), "withheld": sorted(d.withheld)}
            for d in (doc.disclosures if doc else [])
        ],
        "versionHash": doc.version.hash if doc and doc.version else None,
    }

    def line(text: str) -> None:
        stdout.print(text, markup=False, highlight=False)

    def human() -> None:
        line(f"{file}")
        if report.ok:
            stdout.print(
                f"  [bold green]AUTHENTIC[/bold green]      every claim and proof holds, offline, against "
                f"{report.consortium} ({report.validators} validators) at block {report.as_of_block}, {when}",
                highlight=False,
            )
            if report.quorum is not None:
                line(
                    f"{' ' * 17}block {report.as_of_block} committed at height "
                    f"{report.quorum.height}, {report.quorum}"
                )
        else:
            stdout.print(
                f"  [bold red]NOT AUTHENTIC[/bold red]  {len(report.failures)} failure(s):", highlight=False
            )
            for f in report.failures:
                line(f"    {f}")
        if report.policies:
            failed = [p for p in report.policies if not p.ok]
            if failed:
                stdout.print(
                    "  [bold red]NOT COMPLIANT[/bold red]  "
                    + "; ".join(f"{p.policy}: FAIL ({'; '.join(p.reasons)})" for p in failed),
                    highlight=False,
                )
            else:
                stdout.print(
                    "  [bold green]COMPLIANT[/bold green]      "
                    + ", ".join(f"{p.policy}: pass" for p in report.policies),
                    highlight=False,
                )
            for p in report.policies:
                described = _policy_description(p.policy)
                if described:
                    line(f"                 {p.policy}: {described}")
            if not judged:
                line("                 (reported; --policy NAME makes a failure exit 3)")
        if anchor is not None:
            line(
                f"  anchor         {report.consortium}: {report.validators} validators, genesis "
                f"{anchor.genesis_hash[:10]}…{anchor.genesis_hash[-6:]}, "
                f"fingerprint {anchor.fingerprint()[:23]}… (compare with the consortium's)"
            )
        for note in report.notes:
            line(f"  note: {note}")
        if doc is not None and report.ok and (doc.disclosures or report.tier is not None):
            fields = sum(len(d.revealed) for d in doc.disclosures)
            withheld = sum(len(d.withheld) for d in doc.disclosures)
            line(
                f"  disclosed      tier {doc.tier or 'none'}: {len(doc.disclosures)} records, "
                f"{fields} fields "
                f"proven against their on-chain roots, {withheld} withheld"
            )
            if report.tier is not None:
                kept = (
                    "every lineage record on chain disclosed with every field the tier reveals"
                    if report.tier_complete
                    else "INCOMPLETE: the exporter marked records missing (notes above)"
                )
                line(f"{' ' * 17}tier {report.tier} ({(report.tier_fingerprint or '')[:23]}…): {kept}")
        if verbose:
            for name, statement in report.completeness.items():
                line(f"  {name}: {statement}")
            if report.policies:
                stdout.print(policy_table(report.policies))

    emit(as_json, data, human)
    if code:
        sys.exit(code)


def _policy_description(name: str) -> str:
    try:
        return load_policy(name).description
    except PassportError:
        return ""


@passport_group.command("check")
@click.argument("batch_id", type=int)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    default=("dfars-2027", "eu-2017-821"),
    show_default=True,
    help=f"Shipped policy ({', '.join(builtin_policies())}) or a policy JSON file; repeatable.",
)
@chain_options
def check(batch_id: int, policies: tuple[str, ...], chain: ChainArgs) -> None:
    """Check BATCH_ID against policies; exit 1 when any fails."""
    sdk = chain.sdk()
    doc = sdk.passport_for(batch_id)
    results = [sdk.check(doc, p) for p in policies]
    emit(chain.as_json, results, lambda: stdout.print(policy_table(results)))
    if not all(r.ok for r in results):
        sys.exit(1)


@passport_group.command("schema")
@json_option
def schema(as_json: bool) -> None:
    """Print the passport's JSON Schema."""
    click.echo(json_schema(), nl=False)
