"""``passport`` command line: a click root group and one module per noun."""

from __future__ import annotations

import importlib
import os
import sys

import click

# pydantic scans every installed distribution's entry points for plugins when it builds its
# first model (tens of milliseconds at each start); the command line uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from passport.exceptions import PassportError

# Every command: its module, its attribute and its help's first sentence, so that ``passport
# --help`` lists them without importing any of them (the SDK, web3 and py-evm load only for the
# command that runs). tests/cli/test_lazy.py checks this table against the commands themselves.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "account": (
        "account",
        "account",
        "Keystores (encrypted JSON) and development accounts.",
    ),
    "deploy": (
        "deploy",
        "deploy_command",
        "Deploy Consortium, MineralPassport and AttestationRegistry; record them under DEPLOYMENTS/NETWORK.",
    ),
    "member": (
        "member",
        "member",
        "Members: proposals to add, change roles, (de)activate, sanction; and records.",
    ),
    "facility": (
        "facility",
        "facility",
        "Facilities: proposals to register and sanction; records; device keys.",
    ),
    "batch": (
        "batch",
        "batch",
        "Batches: mint, offer, accept, split, process, freeze, taint, show.",
    ),
    "attest": (
        "attest",
        "attest",
        "Attestations: sign offline (EIP-712), submit (anyone relays), attest directly, revoke, verify.",
    ),
    "telemetry": (
        "telemetry",
        "telemetry",
        "Signed IoT readings: anchor as a Merkle root, prove inclusion.",
    ),
    "gateway": (
        "gateway",
        "gateway",
        "The telemetry gateway: device readings in over MQTT and HTTP, anchored on-chain.",
    ),
    "show": (
        "passport_cmd",
        "show",
        "Assemble BATCH_ID's passport from the chain and print it (a lineage tree, or "
        "--json); with --tier, with the names and records the vault may disclose at that "
        "tier.",
    ),
    "export": (
        "passport_cmd",
        "export",
        "Write BATCH_ID's passport as JSON with its evidence (and, with --tier, the "
        "disclosed fields of its lineage's records), or as a signed UNTP credential "
        "(--format untp-dpp).",
    ),
    "verify": (
        "passport_cmd",
        "verify",
        "Verify FILE (a passport, or a UNTP credential .jwt, or an EPCIS document): "
        "offline against a trust anchor (--trust), or by re-deriving every field from the "
        "chain.",
    ),
    "view": (
        "passport_cmd",
        "view",
        "Write one self-contained HTML page for the passport FILE (or the passport a UNTP"
        " .jwt or EPCIS file carries) that verifies it in the browser against --trust, "
        "offline: it embeds the proofs, the anchor, its script and styles, and loads "
        "nothing from the network.",
    ),
    "qr": (
        "passport_cmd",
        "qr",
        "Write a QR label for BATCH_ID: a GS1 Digital Link when the vault knows the "
        "batch's GTIN, https://RESOLVER/passport/<chainId>/<batchId> otherwise, with a "
        "readable line under the code.",
    ),
    "check": (
        "passport_cmd",
        "check",
        "Check BATCH_ID against policies; exit 1 when any fails.",
    ),
    "schema": (
        "passport_cmd",
        "schema",
        "Print the passport's JSON Schema.",
    ),
    "passport": (
        "passport_cmd",
        "passport_group",
        "Digital Mineral Passports: show, export, verify, check.",
    ),
    "records": (
        "records",
        "records",
        "Records (member profile, facility record, batch documents) and their disclosure.",
    ),
    "status": (
        "status",
        "status",
        "Credential status lists (revocation, suspension) of a DPP or DCC issuer.",
    ),
    "trust": (
        "trust",
        "trust",
        "The consortium's trust anchor (chain, validator set, contracts) for offline verification.",
    ),
    "compile": (
        "compile",
        "compile_command",
        "Compile contracts/ into artifact JSON files (deterministic, byte for byte).",
    ),
    "demo": (
        "demo",
        "demo_command",
        "Two Vietnamese mines to an EU chip fab: custody, a weight discrepancy, split, "
        "APT, WF6, attestations (one signed offline, one revoked), a sanction after the "
        "fact, passports and policy checks.",
    ),
    "node": (
        "node",
        "node",
        "Run a permissioned, persistent, verifiable node (py-evm, Cancun rules).",
    ),
    "net": (
        "net",
        "net",
        "A network of validators agreeing through CometBFT, on 127.0.0.1.",
    ),
    "validator": (
        "validator",
        "validator",
        "Consensus validators: ed25519 keys bound to members, added and removed by proposal.",
    ),
    "serve": (
        "serve",
        "serve_command",
        "Answer the QR labels' URLs (GS1 Digital Link /01/<GTIN>/10/<batch>, or "
        "/passport/<chainId>/<batchId>) with the page, an RFC 9264 linkset, the proof "
        "bundle, the EPCIS document and published credentials, read from the chain's "
        "head.",
    ),
    "resolver-keys": (
        "serve",
        "resolver_keys",
        "Keys that open a higher disclosure tier on `passport serve`.",
    ),
}
# ``passport passport VERB`` keeps working, out of the help: its verbs are at the top level.
HIDDEN = {"passport"}


class LazyGroup(click.Group):
    """A group that imports a command's module only when the command runs (or is asked for)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attribute, _ = entry
        command: click.Command = getattr(importlib.import_module(f"passport.cli.{module}"), attribute)
        if cmd_name in HIDDEN:
            command.hidden = True
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        listed = [name for name in COMMANDS if name not in HIDDEN]
        limit = formatter.width - 6 - max(len(name) for name in listed)
        rows = [(name, _shortened(COMMANDS[name][2], limit)) for name in listed]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shortened(text: str, limit: int) -> str:
    """``text`` cut at a word to ``limit`` characters with "...", as click shortens a help."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 3].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "..."


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mineral-passport", prog_name="passport")
def cli() -> None:
    """Mineral Passport: verifiable provenance for critical minerals on a permissioned EVM chain."""


def main() -> None:
    """Entry point: a PassportError becomes one line on stderr and exit code 1, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except PassportError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
