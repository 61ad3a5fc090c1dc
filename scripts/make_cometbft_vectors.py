#!/usr/bin/env python3
"""Light-client test vectors from a real CometBFT network, for both verifiers.

Starts the pinned ``cometbft`` with 4 validators (voting powers 30, 10, 10, 10) and one full node,
takes signed headers (``/commit``) and validator sets (``/validators``) from its RPC, and changes
the set by the Consortium's governance twice: the full node joins with power 20, then validators
0, 1 and 2 leave, so that the first set holds too little of the last one's commits to vouch for
it directly and the light client needs a pivot. Writes ``viewer/test/vectors/cometbft/``:

- ``network.json``: the light blocks as CometBFT served them (the trusted one first);
- one file per vector: a trusted state, a path of light blocks, the time of the check and the
  trusting period, and what the verifier must answer (ok with the quorum, or the failure's
  place and reason). Tampered vectors change one thing of a good one.

Both test suites (tests/evidence/test_cometbft_vectors.py, viewer/test/cometbft.test.mjs) run
every vector; ``tests/cometbft/test_light_client.py`` checks that CometBFT's own light client
accepts the same path.

    scripts/make_cometbft_vectors.py [--out viewer/test/vectors/cometbft] [--network network.json]
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from passport.core.types import Role
from passport.evidence import cometbft
from passport.node.consensus.comet import comet_rpc
from passport.node.consensus.network import Network, init_network
from passport.sdk import Client, Founder, Sdk
from passport.sdk.accounts import dev_accounts

POWERS = [30, 10, 10, 10]
PERIOD = 365 * 24 * 3600
OUT = Path(__file__).resolve().parent.parent / "viewer" / "test" / "vectors" / "cometbft"


def light_block(network: Network, height: int, index: int = 4) -> dict[str, Any]:
    url = network.node(index).comet_rpc
    commit = comet_rpc(url, "commit", {"height": str(height)})
    validators = comet_rpc(url, "validators", {"height": str(height), "per_page": "100"})["validators"]
    return {"signed_header": commit["signed_header"], "validator_set": {"validators": validators}}


def height(network: Network, index: int = 4) -> int:
    try:
        status = comet_rpc(network.node(index).comet_rpc, "status", {})
    except OSError:  # its cometbft is still starting
        return 0
    return int(status["sync_info"]["latest_block_height"])


def wait_for(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def settled(network: Network, wanted: Callable[[list[Any]], bool], what: str) -> dict[str, Any]:
    """The light block of the first committed height whose validator set is ``wanted``."""
    found: list[dict[str, Any]] = []

    def check() -> bool:
        top = height(network) - 1
        block = light_block(network, top)
        if wanted(block["validator_set"]["validators"]):
            found.append(block)
            return True
        return False

    wait_for(check, what)
    return found[0]


def powers(network: Network) -> dict[str, int]:
    answer = comet_rpc(network.node(4).comet_rpc, "validators", {"per_page": "100"})
    return {v["address"]: int(v["voting_power"]) for v in answer["validators"]}


def collect(work: Path) -> dict[str, Any]:
    network = init_network(work / "net", validators=4, timeout_commit="500ms", full_nodes=1, powers=POWERS)
    with network.running():
        wait_for(lambda: height(network) >= 3, "height 3")
        trusted = light_block(network, 2)
        adjacent = light_block(network, 3)
        wait_for(lambda: height(network) >= 7, "height 7")
        skipping = light_block(network, 6)

        accounts = dev_accounts()
        founders = [Founder(a.address, Role.ADMIN | Role.REGULATOR, "VN") for a in accounts[:5]]
        sdk = Sdk.deploy(Client.connect(network.node(4).rpc_url), accounts[0], founders, threshold=2)

        def set_power(node: int, power: int) -> None:
            n = network.node(node)
            result = sdk.consortium.propose_validator(
                accounts[1], base64.b64decode(n.pub_key), n.account, power, execute=False
            )
            sdk.consortium.approve(accounts[2], result.value.proposal_id)
            sdk.consortium.execute(accounts[2], result.value.proposal_id)

        fifth = network.node(4).validator_address
        set_power(4, 20)
        wait_for(lambda: powers(network).get(fifth) == 20, "the fifth validator")
        middle = settled(network, lambda vals: len(vals) == 5, "a block signed by the five")
        for node in (0, 1, 2):
            set_power(node, 0)
        leaving = {network.node(i).validator_address for i in (0, 1, 2)}
        wait_for(lambda: not leaving & set(powers(network)), "validators 0, 1 and 2 to leave")
        last = settled(network, lambda vals: len(vals) == 2, "a block signed by the two left")
    return {
        "chain_id": trusted["signed_header"]["header"]["chain_id"],
        "trusted": trusted,
        "adjacent": adjacent,
        "skipping": skipping,
        "middle": middle,
        "last": last,
    }


def vector(
    name: str,
    trusted: dict[str, Any],
    path: list[dict[str, Any]],
    expect: dict[str, Any],
    now: str | None = None,
) -> dict[str, Any]:
    header = trusted["signed_header"]["header"]
    if now is None:
        t = cometbft.Time.parse(path[-1]["signed_header"]["header"]["time"], "time")
        now = str(cometbft.Time(t.seconds + 60, t.nanos))
    return {
        "name": name,
        "trusted": {"header": header, "validators": trusted["validator_set"]["validators"]},
        "path": path,
        "now": now,
        "trusting_period_seconds": PERIOD,
        "expect": expect,
    }


def good(path: list[dict[str, Any]], trusted: dict[str, Any]) -> dict[str, Any]:
    """What the verifier must find for a good path: the last block's signers and power."""
    state = cometbft.Trusted(
        cometbft.read_header(trusted["signed_header"]["header"], "t"),
        cometbft.read_validators(trusted["validator_set"]["validators"], "t"),
    )
    blocks = [cometbft.read_light_block(b, f"path[{n}]") for n, b in enumerate(path)]
    t = blocks[-1].header.time
    tally, _ = cometbft.verify_path(state, blocks, PERIOD, cometbft.Time(t.seconds + 60, t.nanos), "path")
    return {
        "ok": True,
        "height": blocks[-1].height,
        "signers": [v.address.hex().upper() for v in tally.signers],
        "signed_power": tally.signed_power,
        "total_power": tally.total_power,
    }


def sigs(block: dict[str, Any]) -> list[dict[str, Any]]:
    signatures: list[dict[str, Any]] = block["signed_header"]["commit"]["signatures"]
    return signatures


def tampered(net: dict[str, Any]) -> list[dict[str, Any]]:
    trusted, adjacent, skipping = net["trusted"], net["adjacent"], net["skipping"]
    middle, last = net["middle"], net["last"]
    out = []

    def case(
        name: str,
        base: dict[str, Any],
        change: Callable[[dict[str, Any]], None],
        where: str,
        reason: str,
        path_before: list[dict[str, Any]] | None = None,
        now: str | None = None,
    ) -> None:
        block = copy.deepcopy(base)
        change(block)
        path = [*(path_before or []), block]
        out.append(vector(name, trusted, path, {"ok": False, "where": where, "reason": reason}, now))

    def flip_signature(b: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(sigs(b)[1]["signature"]))
        raw[10] ^= 0x01
        sigs(b)[1]["signature"] = base64.b64encode(bytes(raw)).decode()

    case("signature-byte", adjacent, flip_signature, "path[0]", "wrong signature")

    def outsider(b: dict[str, Any]) -> None:
        key = Ed25519PrivateKey.generate()
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        sig = sigs(b)[1]
        sig["validator_address"] = cometbft.comet_address(pub).hex().upper()
        commit = cometbft.read_commit(b["signed_header"]["commit"], "c")
        message = cometbft.vote_sign_bytes(net["chain_id"], commit, 1)
        sig["signature"] = base64.b64encode(key.sign(message)).decode()

    case("signature-outsider", adjacent, outsider, "path[0]", "but validator 1 of the set is")

    def two_thirds(b: dict[str, Any]) -> None:
        # powers 30, 10, 10, 10: keep 30 + 10 = 40 of 60, exactly 2/3
        for sig in sigs(b)[2:]:
            sig.update(
                block_id_flag=1, validator_address="", timestamp="0001-01-01T00:00:00Z", signature=None
            )

    case("commit-two-thirds", adjacent, two_thirds, "path[0]", "signed by 40 of 60 voting power")

    def header_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def change(b: dict[str, Any]) -> None:
            b["signed_header"]["header"][name] = value

        return change

    h = adjacent["signed_header"]["header"]
    other_chain = header_field("chain_id", "passport-9999")
    case("chain-id", adjacent, other_chain, "path[0]", "the trust anchor's chain is")
    app = "00" * 32 if h["app_hash"] != "00" * 32 else "11" * 32
    case("app-hash", adjacent, header_field("app_hash", app.upper()), "path[0]", "the commit is for")
    case(
        "validators-hash",
        adjacent,
        header_field("validators_hash", "AB" * 32),
        "path[0]",
        "the commit is for",
    )
    case("height", adjacent, header_field("height", str(int(h["height"]) + 1)), "path[0]", "header's height")
    t = cometbft.Time.parse(h["time"], "t")
    case(
        "time",
        adjacent,
        header_field("time", str(cometbft.Time(t.seconds + 1, t.nanos))),
        "path[0]",
        "the commit is for",
    )

    def round_(b: dict[str, Any]) -> None:
        b["signed_header"]["commit"]["round"] = int(b["signed_header"]["commit"]["round"]) + 1

    case("round", adjacent, round_, "path[0]", "wrong signature")

    def duplicate(b: dict[str, Any]) -> None:
        sigs(b)[2] = copy.deepcopy(sigs(b)[1])

    case("duplicate-vote", skipping, duplicate, "path[0]", "double vote")

    def other_set(b: dict[str, Any]) -> None:
        b["validator_set"]["validators"][1]["voting_power"] = "11"

    case("validator-set", adjacent, other_set, "path[0]", "the header's validators_hash is")
    expired = str(cometbft.Time(t.seconds - 5 + PERIOD + 3600, 0))
    case("trusting-period", skipping, lambda b: None, "path[0]", "past its trusting period", now=expired)
    out.append(
        vector(
            "set-change-without-third",
            trusted,
            [last],
            {"ok": False, "where": "path[0]", "reason": "not more than 1/3"},
        )
    )
    del middle
    return out


def outcome(v: dict[str, Any]) -> dict[str, Any]:
    """What the Python verifier answers for vector ``v`` (as the tests read it)."""
    try:
        state = cometbft.Trusted(
            cometbft.read_header(v["trusted"]["header"], "trusted"),
            cometbft.read_validators(v["trusted"]["validators"], "trusted"),
        )
        blocks = [cometbft.read_light_block(b, f"path[{n}]") for n, b in enumerate(v["path"])]
        now = cometbft.Time.parse(v["now"], "now")
        tally, _ = cometbft.verify_path(state, blocks, v["trusting_period_seconds"], now, "path")
    except cometbft.ProofError as exc:
        return {"ok": False, "where": exc.what, "reason": exc.reason}
    return {"ok": True, "height": blocks[-1].height, "signed_power": tally.signed_power}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--network", type=Path, default=None, help="re-derive the vectors from this network.json"
    )
    args = parser.parse_args()
    if args.network is not None:
        net = json.loads(args.network.read_text())
    else:
        with tempfile.TemporaryDirectory(prefix="cometbft-vectors-") as tmp:
            net = collect(Path(tmp))
        (Path(tempfile.gettempdir()) / "cometbft-network.json").write_text(json.dumps(net))
    trusted = net["trusted"]
    vectors = [
        vector("adjacent", trusted, [net["adjacent"]], good([net["adjacent"]], trusted)),
        vector("skipping", trusted, [net["skipping"]], good([net["skipping"]], trusted)),
        vector(
            "set-change-bisected",
            trusted,
            [net["middle"], net["last"]],
            good([net["middle"], net["last"]], trusted),
        ),
        *tampered(net),
    ]
    for v in vectors:
        got, want = outcome(v), v["expect"]
        if got["ok"] != want["ok"] or (
            not want["ok"]
            and not (got["where"].startswith(want["where"]) and want["reason"] in got["reason"])
        ):
            raise SystemExit(f"vector {v['name']}: expected {want}, the verifier answers {got}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "network.json").write_text(json.dumps(net, indent=1) + "\n")
    for v in vectors:
        (args.out / f"{v['name']}.json").write_text(json.dumps(v, indent=1) + "\n")
    (args.out / "index.json").write_text(json.dumps([v["name"] for v in vectors], indent=1) + "\n")
    print(f"wrote {len(vectors)} vectors to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
