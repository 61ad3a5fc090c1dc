"""``passport serve``: the resolver behind the QR labels; ``passport resolver-keys``: its keys."""

from __future__ import annotations

import logging
import secrets
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from passport._utils.serving import ServerLimits
from passport.cli._common import (
    ChainArgs,
    chain_options,
    emit,
    json_option,
    server_limit_options,
    vault_option,
)
from passport.evidence.trust import load_trust_anchor
from passport.records.disclosure import load_tier
from passport.resolver import KeyEntry, KeysFile, RateLimiter, Resolver, key_hash, make_server

keys_option = click.option(
    "--keys",
    "keys_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("resolver-keys.json"),
    show_default=True,
    help="The resolver's keys file: SHA-256 of each key and the tier it opens.",
)


@click.command("serve")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any free port."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The trust anchor the pages verify against (default: exported from the node at start-up).",
)
@click.option("--name", default="Mineral Passport consortium", show_default=True, help="Without --trust.")
@click.option(
    "--public-url",
    default=None,
    help="The resolver's public base URL, e.g. https://id.example.com (default: from the Host header).",
)
@click.option(
    "--published",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A folder of credentials members published, as <batchId>.dpp.jwt, linked and served as-is; "
    "and issuers' status lists (`status publish --out`), served at /status/….",
)
@click.option(
    "--rate", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Requests/s per client."
)
@click.option("--burst", type=click.IntRange(min=1), default=20, show_default=True, help="Burst per client.")
@server_limit_options(ServerLimits())
@keys_option
@vault_option
@chain_options
def serve_command(
    port: int,
    host: str,
    trust_file: Path | None,
    name: str,
    public_url: str | None,
    published: Path | None,
    rate: float,
    burst: int,
    keys_file: Path,
    vault_dir: Path,
    chain: ChainArgs,
    limits: ServerLimits,
) -> None:
    """Answer the QR labels' URLs (GS1 Digital Link /01/<GTIN>/10/<batch>, or
    /passport/<chainId>/<batchId>) with the page, an RFC 9264 linkset, the proof bundle, the EPCIS
    document and published credentials, read from the chain's head. Public tier by default; a key
    (?key= or Authorization: Bearer) from --keys opens its tier."""
    sdk = chain.sdk()
    trust = load_trust_anchor(trust_file) if trust_file is not None else sdk.trust_anchor(name)
    keys = KeysFile.load(keys_file)
    resolver = Resolver(
        sdk,
        trust,
        vault=vault_dir if vault_dir.is_dir() else None,
        keys=keys,
        published=published,
        public_url=public_url,
        limiter=RateLimiter(rate, burst),
    )
    try:
        server = make_server(resolver, host, port, limits)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    bound = server.server_address[1]
    emit(
        chain.as_json,
        {"url": f"http://{host}:{bound}", "chainId": trust.chain_id, "keys": len(keys.keys)},
        f"resolving passports of chain {trust.chain_id} on http://{host}:{bound} ({len(keys.keys)} key(s))",
    )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@click.group("resolver-keys")
def resolver_keys() -> None:
    """Keys that open a higher disclosure tier on `passport serve`."""


@resolver_keys.command("add")
@click.argument("tier")
@click.option("--label", default="", help="Who holds the key, for the operator's records.")
@keys_option
@json_option
def add_key(tier: str, label: str, keys_file: Path, as_json: bool) -> None:
    """Make a key that opens TIER (public, buyer, authority, or a tier file). The key is printed
    once; the file keeps only its SHA-256."""
    load_tier(tier)
    keys = KeysFile.load(keys_file)
    key = secrets.token_urlsafe(24)
    updated = keys.model_copy(
        update={"keys": [*keys.keys, KeyEntry(sha256=key_hash(key), tier=tier, label=label)]}
    )
    updated.save(keys_file)
    emit(
        as_json,
        {"key": key, "tier": tier, "file": str(keys_file)},
        f"{key}\n(opens the {tier} tier; kept hashed in {keys_file})",
    )
