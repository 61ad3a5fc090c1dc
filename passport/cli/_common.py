"""Options and output shared by every command (one place, as STYLE.md asks)."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from passport._utils.dev import DEV_ROLES, PASSWORD_ENV
from passport.exceptions import KeystoreError

if TYPE_CHECKING:  # the SDK (web3, eth-account) loads only when a command uses it
    from eth_account.signers.local import LocalAccount

    from passport.evidence.trust import CometTrustAnchor
    from passport.sdk import Client, Sdk

F = TypeVar("F", bound=Callable[..., Any])
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_MASS = re.compile(r"^([0-9][0-9_,]*(?:\.[0-9]+)?)\s*(g|kg|t)$")
_UNITS = {"g": 1, "kg": 1_000, "t": 1_000_000}


class AccountParam(click.ParamType[str]):
    """A 0x address (checked against its EIP-55 checksum when mixed-case) or a development
    account's name (``admin``, ``mine-a``, …: the test mnemonic's, on dev chains); the checksummed
    address."""

    name = "ADDRESS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if text in DEV_ROLES:
            from passport._utils.dev import dev_account

            return str(dev_account(DEV_ROLES.index(text)).address)
        if not _HEX_ADDRESS.match(text):
            self.fail(
                f"{text!r} is neither an address (0x and 40 hex digits) nor an account name "
                f"({', '.join(DEV_ROLES)})",
                param,
                ctx,
            )
        from eth_utils import is_checksum_address, to_checksum_address

        digits = text[2:]
        if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(text):
            self.fail(f"{text}: the EIP-55 checksum does not match (a typo?)", param, ctx)
        return str(to_checksum_address(text))


class CountryParam(click.ParamType[str]):
    """An ISO 3166-1 alpha-2 code (``VN``, ``kr``): upper-cased."""

    name = "CC"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not re.fullmatch(r"[A-Za-z]{2}", text):
            self.fail(f"{text!r} is not an ISO 3166-1 alpha-2 country code such as VN or KR", param, ctx)
        return text.upper()


class MassParam(click.ParamType[int]):
    """A mass with its unit: ``5000kg``, ``5,000 kg``, ``12.5t``, ``800g``; in whole grams, > 0."""

    name = "MASS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _MASS.match(str(value).strip().lower())
        if match is None:
            self.fail(f"{value!r} is not a mass with its unit, such as 5000kg, 12.5t or 800g", param, ctx)
        grams = float(match.group(1).replace(",", "").replace("_", "")) * _UNITS[match.group(2)]
        if grams != int(grams) or grams <= 0:
            self.fail(f"{value!r} is not a positive whole number of grams", param, ctx)
        return int(grams)


ADDRESS = AccountParam()
COUNTRY = CountryParam()
MASS = MassParam()
stdout = Console()
stderr = Console(stderr=True)


@dataclasses.dataclass(frozen=True, slots=True)
class ChainArgs:
    """What --rpc-url, --network, --deployments and --json said."""

    rpc_url: str
    network: str
    deployments_dir: Path
    as_json: bool

    def sdk(self) -> Sdk:
        return sdk_for(self.rpc_url, self.network, self.deployments_dir)


@dataclasses.dataclass(frozen=True, slots=True)
class SignerArgs:
    """What --keystore and --dev-account said; the key is read only when a command signs."""

    keystore: Path | None
    dev_account: str | None

    def account(self) -> LocalAccount:
        return signer(self.keystore, self.dev_account)


def chain_options(fn: F) -> F:
    """--rpc-url, --network, --deployments and --json, passed to the command as ``chain``."""

    @click.option(
        "--rpc-url",
        envvar="PASSPORT_RPC_URL",
        default="http://127.0.0.1:8545",
        show_default=True,
        help="JSON-RPC endpoint (env PASSPORT_RPC_URL).",
    )
    @click.option(
        "--network",
        envvar="PASSPORT_NETWORK",
        default="local",
        show_default=True,
        help="Name of the deployment record set (env PASSPORT_NETWORK).",
    )
    @click.option(
        "--deployments",
        "deployments_dir",
        envvar="PASSPORT_DEPLOYMENTS",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("deployments"),
        show_default=True,
        help="Directory of deployment records (env PASSPORT_DEPLOYMENTS).",
    )
    @json_option
    @wraps(fn)
    def wrapper(
        *args: Any, rpc_url: str, network: str, deployments_dir: Path, as_json: bool, **kwargs: Any
    ) -> Any:
        return fn(*args, chain=ChainArgs(rpc_url, network, deployments_dir, as_json), **kwargs)

    return wrapper  # type: ignore[return-value]


def json_option(fn: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON document on stdout.")(
        fn
    )


VAULT_ENV = "PASSPORT_VAULT"


def vault_option(fn: F) -> F:
    """--vault DIR (env PASSPORT_VAULT), passed to the command as ``vault_dir``."""

    @click.option(
        "--vault",
        "vault_dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=VAULT_ENV,
        default=Path("vault"),
        show_default=True,
        help=f"The member's vault: records, salts, documents, received disclosures (env {VAULT_ENV}).",
    )
    @wraps(fn)
    def wrapper(*args: Any, vault_dir: Path, **kwargs: Any) -> Any:
        return fn(*args, vault_dir=vault_dir, **kwargs)

    return wrapper  # type: ignore[return-value]


def server_limit_options(defaults: Any) -> Callable[[F], F]:
    """--idle-timeout, --request-deadline, --max-connections, --listen-backlog and --max-body,
    passed to the command as ``limits`` (a ``passport._utils.serving.ServerLimits``); ``defaults``
    is the server's own ServerLimits."""

    def decorate(fn: F) -> F:
        @click.option(
            "--idle-timeout",
            type=click.FloatRange(min=0.1),
            default=defaults.idle_timeout,
            show_default=True,
            help="Seconds an idle keep-alive connection (or a stalled read) stays open.",
        )
        @click.option(
            "--request-deadline",
            type=click.FloatRange(min=0.1),
            default=defaults.request_deadline,
            show_default=True,
            help="Seconds a request may take to arrive whole, from its first byte.",
        )
        @click.option(
            "--max-connections",
            type=click.IntRange(min=1),
            default=defaults.max_connections,
            show_default=True,
            help="Open connections at once; beyond, HTTP 503.",
        )
        @click.option(
            "--listen-backlog",
            type=click.IntRange(min=1),
            default=defaults.backlog,
            show_default=True,
            help="Connections waiting to be accepted.",
        )
        @click.option(
            "--max-body",
            type=click.IntRange(min=1),
            default=defaults.max_body_bytes,
            show_default=True,
            help="Largest request body, in bytes; beyond, HTTP 413.",
        )
        @wraps(fn)
        def wrapper(
            *args: Any,
            idle_timeout: float,
            request_deadline: float,
            max_connections: int,
            listen_backlog: int,
            max_body: int,
            **kwargs: Any,
        ) -> Any:
            from passport._utils.serving import ServerLimits

            limits = ServerLimits(idle_timeout, request_deadline, max_connections, max_body, listen_backlog)
            return fn(*args, limits=limits, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def network_anchor(trust_file: Path | None) -> CometTrustAnchor | None:
    """The CometBFT network's trust anchor in ``trust_file`` (None without one): what an export
    proves its blocks from.

    Raises:
        click.UsageError: a single sealer's anchor (its blocks are proven by seals, not commits).
        TrustAnchorError: not a trust anchor.
    """
    if trust_file is None:
        return None
    from passport.evidence.trust import CometTrustAnchor, load_trust_anchor

    loaded = load_trust_anchor(trust_file)
    if not isinstance(loaded, CometTrustAnchor):
        raise click.UsageError(
            f"{trust_file} is a single sealer's trust anchor; --trust takes a CometBFT network's"
        )
    return loaded


def http_url(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``value`` must be an http(s) URL (refused before anything is sent)."""
    if value is not None and not value.startswith(("https://", "http://")):
        raise click.BadParameter(f"{value!r} is not an http(s) URL", param_hint=param.opts[0])
    return value


def duration(text: str, hint: str) -> int:
    """Seconds of ``text`` (a positive number of s, m, h or d: ``90d``, ``2160h``).

    Raises:
        click.BadParameter: anything else, naming the option ``hint``.
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) == 0:
        raise click.BadParameter(f"{text!r}: a positive number of s, m, h or d", param_hint=hint)
    return int(number) * units[unit]


def signer_options(fn: F) -> F:
    """--keystore (password from $PASSPORT_PASSWORD or a prompt) or --dev-account, passed as ``sender``."""

    @click.option(
        "--keystore",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Encrypted JSON keystore of the sender; password from ${PASSWORD_ENV} or a prompt.",
    )
    @click.option(
        "--dev-account",
        type=click.Choice(DEV_ROLES),
        help="A development account of the standard test mnemonic (dev chains only).",
    )
    @wraps(fn)
    def wrapper(*args: Any, keystore: Path | None, dev_account: str | None, **kwargs: Any) -> Any:
        return fn(*args, sender=SignerArgs(keystore, dev_account), **kwargs)

    return wrapper  # type: ignore[return-value]


def signer(keystore: Path | None, dev: str | None) -> LocalAccount:
    """The account that signs: exactly one of --keystore and --dev-account.

    Raises:
        click.UsageError: neither or both were given.
        KeystoreError: the keystore cannot be read or decrypted.
    """
    if (keystore is None) == (dev is None):
        raise click.UsageError("give exactly one of --keystore PATH and --dev-account NAME")
    from passport.sdk.accounts import dev_account, load_keystore

    if dev is not None:
        return dev_account(DEV_ROLES.index(dev))
    assert keystore is not None
    import os

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise KeystoreError(str(keystore), f"no password: set ${PASSWORD_ENV} or run in a terminal")
        password = click.prompt(f"Password for {keystore}", hide_input=True, err=True)
    return load_keystore(keystore, password)


CLIENTS_KEY = "passport.clients"


def connect(rpc_url: str) -> Client:
    from passport.sdk import Client

    client = Client.connect(rpc_url)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # emit() reports the transactions this command sent
        ctx.meta.setdefault(CLIENTS_KEY, []).append(client)
    return client


def sdk_for(rpc_url: str, network: str, deployments_dir: Path) -> Sdk:
    from passport.sdk import Sdk

    return Sdk.attach(connect(rpc_url), deployments_dir, network)


def sent_transactions() -> list[dict[str, Any]]:
    """Hash, block and gas of every transaction the current command sent."""
    ctx = click.get_current_context(silent=True)
    clients = ctx.meta.get(CLIENTS_KEY, []) if ctx is not None else []
    return [
        {
            "hash": "0x" + bytes(r["transactionHash"]).hex(),
            "block": int(r["blockNumber"]),
            "gasUsed": int(r["gasUsed"]),
        }
        for client in clients
        for r in client.sent
    ]


def plain(value: Any) -> Any:
    """JSON-ready form of SDK results (dataclasses, enums, bytes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Flag):
        return [m.name for m in type(value) if m in value and m.name]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return value


def emit(as_json: bool, data: Any, human: Callable[[], None] | str) -> None:
    """One JSON document with --json; otherwise the human rendering. A command that sent
    transactions reports each one's hash, block and gas (``transactions`` in the JSON)."""
    sent = sent_transactions()
    if as_json:
        if sent and isinstance(data, dict):
            data = {**data, "transactions": sent}
        click.echo(json.dumps(plain(data), indent=2, sort_keys=True))
        return
    if isinstance(human, str):
        stdout.print(human, highlight=False, soft_wrap=True)  # piped, a line stays one line
    else:
        human()
    for tx in sent:
        stdout.print(
            f"  tx {tx['hash']} in block {tx['block']}, gas {tx['gasUsed']:,}",
            highlight=False,
            soft_wrap=True,
        )


def int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}") from exc
    if not values:
        raise click.BadParameter("expected at least one integer")
    return values


def hex32(text: str) -> bytes:
    value = text[2:] if text.startswith("0x") else text
    try:
        raw = bytes.fromhex(value)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not hex") from exc
    if len(raw) != 32:
        raise click.BadParameter(f"expected 32 bytes (64 hex digits), got {len(raw)}")
    return raw
