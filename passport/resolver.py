"""The resolver behind a passport's QR label (``passport serve``).

It answers the label's URL, a GS1 Digital Link ``/01/<GTIN>/10/<batch>`` or
``/passport/<chainId>/<batchId>``, by content negotiation:

- ``text/html`` (a browser, a phone): the viewer page, which verifies the passport in the page;
- ``application/linkset+json``: an RFC 9264 linkset with typed links (GS1 and UNTP link types) to
  the page, the proof bundle, the EPCIS document, the trust anchor, and a UNTP credential the
  member published;
- ``application/json``: the proof-carrying passport itself.

It also serves the issuers' credential status lists that ``passport status publish`` wrote into
the published folder, at ``/status/<chainId>/<issuer>/<kind>-<purpose>``: the URLs the DPPs and
DCCs name in their ``credentialStatus``.

Each resource also has its own path under the label's (``…/passport.json``, ``…/epcis.json``,
``…/trust.json``, ``…/dpp.jwt``, ``…/linkset.json``, ``…/page.html``).

A request reads the passport at the chain's head, at the public tier unless it carries a key
(``?key=`` as in UNTP's pattern, or ``Authorization: Bearer``) that the keys file maps to a
higher tier. An unknown key gets the public tier too: no response tells a caller that more
exists. Exports are cached per (batch, block, tier) and each client address is rate-limited.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field

from passport._utils.files import atomic_write, load_model
from passport._utils.serving import LimitedHandler, LimitedServer, ServerLimits
from passport.core.document import PassportDocument
from passport.evidence.trust import AnyTrustAnchor
from passport.exceptions import ContractRevert, PassportError
from passport.formats.identifiers import Identifiers
from passport.records.disclosure import load_tier
from passport.sdk import Sdk
from passport.sdk.exporting import export_passport, render

log = logging.getLogger("passport.resolver")

LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"
UNTP_DPP = "https://test.uncefact.org/vocabulary/linkTypes/dpp"
MP = "https://mineral-passport.example/voc/"
RESOURCES = {
    "page.html": "text/html; charset=utf-8",
    "passport.json": "application/json",
    "epcis.json": "application/ld+json",
    "trust.json": "application/json",
    "dpp.jwt": "application/vc+jwt",
    "linkset.json": LINKSET,
}
LABEL_PATH = re.compile(
    r"^/(?:passport/(?P<chain>[0-9]{1,12})/(?P<batch>[0-9]{1,12})"
    r"|01/(?P<gtin>[0-9]{8,14})/10/(?P<lot>[0-9]{1,12}))(?:/(?P<resource>[a-z.]+))?/?$"
)


STATUS_PATH = re.compile(
    r"^/status/(?P<chain>[0-9]{1,12})/(?P<issuer>0x[0-9a-fA-F]{40})/(?P<name>(?:dpp|dcc)-(?:revocation|suspension))/?$"
)


class KeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    tier: str = Field(min_length=1)
    label: str = ""


class KeysFile(BaseModel):
    """Resolver keys by the SHA-256 of the key (the key itself is shown once, when added)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = "mineral-passport/resolver-keys@1"
    keys: list[KeyEntry] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> KeysFile:
        """Raises: PassportFileInvalid (unreadable, not JSON, or not a keys file)."""
        if not path.exists():
            return cls()
        keys = load_model(cls, path)
        for entry in keys.keys:
            load_tier(entry.tier)  # a key to a tier that does not exist is refused at start-up
        return keys

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(self.model_dump(), indent=2) + "\n")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_KEY_IN_QUERY = re.compile(r"([?&]key=)([^&\s]*)")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact(text[:300])


def redact(text: str) -> str:
    """``text`` (a request line, a path) with each ``key=`` value replaced by the start of its
    SHA-256, the form the keys file holds: logs never carry a key."""
    return _KEY_IN_QUERY.sub(lambda m: f"{m.group(1)}sha256:{key_hash(unquote(m.group(2)))[:12]}", text)


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per client address: ``rate`` requests a second, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        with self._lock:
            now = self.clock()
            b = self._buckets.get(client)
            if b is None:
                if len(self._buckets) > 10_000:  # forget idle clients rather than grow without bound
                    self._buckets.clear()
                b = self._buckets[client] = _Bucket(float(self.burst), now)
            b.tokens = min(float(self.burst), b.tokens + (now - b.at) * self.rate)
            b.at = now
            if b.tokens >= 1:
                b.tokens -= 1
                return 0.0
            return (1 - b.tokens) / self.rate


@dataclass(frozen=True)
class Exported:
    doc: PassportDocument
    page: bytes
    bundle: bytes


class NotFound(PassportError):
    """No passport at this address (whatever the reason: one answer for all)."""


class Resolver:
    def __init__(
        self,
        sdk: Sdk,
        trust: AnyTrustAnchor,
        vault: Path | None = None,
        keys: KeysFile | None = None,
        published: Path | None = None,
        public_url: str | None = None,
        limiter: RateLimiter | None = None,
        cache_size: int = 64,
    ) -> None:
        self.sdk, self.trust, self.vault, self.published = sdk, trust, vault, published
        self.public_url = public_url.rstrip("/") if public_url else None
        self.tiers: dict[str, str] = {k.sha256: k.tier for k in (keys or KeysFile()).keys}
        self.limiter = limiter or RateLimiter(rate=5.0, burst=20)
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[int, int, str], Exported] = OrderedDict()
        self._lock = threading.Lock()
        self.exports = 0  # how many passports were exported (cache misses), for tests and logs
        self._trust_json = trust.to_json().encode()

    # ------------------------------------------------------------------ passports

    def export(self, batch_id: int, tier: str) -> Exported:
        """The batch's passport at the head block and ``tier``, exported once per (batch, block, tier)."""
        with self._lock:
            block = self.sdk.client.head()[0]
            key = (batch_id, block, tier)
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            try:
                self.sdk.batches.get(batch_id)
            except ContractRevert as exc:
                if exc.name != "BatchNotFound":
                    raise
                raise NotFound from exc
            # Without a vault there is nothing to disclose and no tier to promise; with one, what
            # it lacks is listed in the passport (tier_missing) and the verdict says so.
            vault = self.vault if self.vault is not None and self.vault.is_dir() else None
            doc = export_passport(self.sdk, batch_id, block, tier, vault, allow_missing=True)
            if doc.tier_missing:
                log.warning(
                    "batch %d at the %s tier: the vault lacks %s", batch_id, tier, ", ".join(doc.tier_missing)
                )
            page = render(doc, "page", anchor=self.trust).content
            exported = Exported(doc, page, render(doc, "passport").content)
            self._cache[key] = exported
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
            self.exports += 1
            log.info("exported batch %d at block %d (%s tier)", batch_id, block, tier)
            return exported

    # ------------------------------------------------------------------ HTTP

    def handle(self, method: str, target: str, headers: dict[str, str], client: str) -> Response:
        """One request; never raises."""
        wait = self.limiter.allow(client)
        if wait:
            return _text(429, "too many requests: slow down", {"Retry-After": str(max(1, round(wait)))})
        if method not in ("GET", "HEAD"):
            return _text(405, "only GET and HEAD", {"Allow": "GET, HEAD"})
        url = urlsplit(target)
        status = STATUS_PATH.match(url.path)
        if status is not None:
            return self._status_list(status)
        match = LABEL_PATH.match(url.path)
        if match is None:
            return _text(404, "no passport at this address")
        query = parse_qs(url.query)
        key = (query.get("key") or [""])[0] or _bearer(headers.get("authorization", ""))
        tier = self.tiers.get(key_hash(key), "public") if key else "public"
        try:
            return self._resolve(match, url.path, query, headers, tier, key if "key" in query else None)
        except NotFound:
            return _text(404, "no passport at this address")
        except (OSError, PassportError) as exc:  # the chain is away or refused: one line
            log.warning("resolving %s: the chain did not answer: %s", url.path, _one_line(exc))
            return _text(502, "the passport could not be read from the chain just now; try again")
        except Exception:  # a fault of ours: logged in full, and a plain 502 to the caller
            log.exception("resolving %s", url.path)
            return _text(502, "the passport could not be read from the chain just now; try again")

    def _resolve(
        self,
        match: re.Match[str],
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        tier: str,
        query_key: str | None,
    ) -> Response:
        gtin = match["gtin"]
        if gtin is not None:
            batch_id = int(match["lot"])
        else:
            if int(match["chain"]) != self.trust.chain_id:
                raise NotFound
            batch_id = int(match["batch"])
        resource = match["resource"]
        if resource is not None and resource not in RESOURCES:
            raise NotFound
        link_type = (query.get("linkType") or [""])[0]
        if resource is None:
            resource = _by_link_type(link_type) or _negotiate(headers.get("accept", ""))
        if batch_id <= 0:
            raise NotFound
        exported = self.export(batch_id, tier)
        if gtin is not None and Identifiers(self.export(batch_id, "authority").doc).gtin(batch_id) != gtin:
            raise NotFound  # the lot is not that product's
        private = (
            {"Cache-Control": "private, no-store"} if tier != "public" else {"Cache-Control": "max-age=60"}
        )
        common = {**private, "Vary": "Accept, Authorization", "X-Passport-Tier": tier}
        label_path = path.rstrip("/")
        if match["resource"] is not None:
            label_path = label_path.rsplit("/", 1)[0]
        base = self.public_url or f"http://{headers.get('host', 'localhost')}"
        linkset_url = f"{base}{label_path}/linkset.json" + (
            f"?{urlencode({'key': query_key})}" if query_key else ""
        )
        common["Link"] = f'<{linkset_url}>; rel="linkset"; type="{LINKSET}"'
        if resource == "page.html":
            return Response(200, RESOURCES[resource], exported.page, common)
        if resource == "passport.json":
            return Response(200, RESOURCES[resource], exported.bundle, common)
        if resource == "trust.json":
            return Response(200, RESOURCES[resource], self._trust_json, common)
        if resource == "epcis.json":
            return Response(200, RESOURCES[resource], render(exported.doc, "epcis").content, common)
        if resource == "dpp.jwt":
            credential = self._published(batch_id)
            if credential is None:
                raise NotFound
            return Response(200, RESOURCES[resource], credential, common)
        body = json.dumps(
            self.linkset(base, label_path, batch_id, exported.doc, query_key), indent=2
        ).encode()
        return Response(200, LINKSET, body, common)

    def _status_list(self, match: re.Match[str]) -> Response:
        """An issuer's status list, as ``passport status publish`` wrote it under the published
        folder: ``status/<chainId>/<issuer>/<name>.jwt``."""
        issuer = to_checksum_address(match["issuer"])
        path = None
        if self.published is not None and int(match["chain"]) == self.trust.chain_id:
            path = self.published / "status" / match["chain"] / issuer / f"{match['name']}.jwt"
        if path is None or not path.is_file():
            return _text(404, "no status list at this address")
        headers = {"Cache-Control": "max-age=60", "Access-Control-Allow-Origin": "*"}
        return Response(200, "application/vc+jwt", path.read_bytes(), headers)

    def _published(self, batch_id: int) -> bytes | None:
        if self.published is None:
            return None
        path = self.published / f"{batch_id}.dpp.jwt"
        return path.read_bytes() if path.is_file() else None

    def linkset(
        self, base: str, label_path: str, batch_id: int, doc: PassportDocument, key: str | None
    ) -> dict[str, Any]:
        """The RFC 9264 linkset of the label's URL."""
        suffix = f"?{urlencode({'key': key})}" if key else ""

        def link(resource: str, title: str) -> dict[str, Any]:
            return {
                "href": f"{base}{label_path}/{resource}{suffix}",
                "type": RESOURCES[resource].split(";")[0],
                "title": title,
                "hreflang": ["en"],
            }

        p = doc.product
        what = f"{p.stage.name} batch {batch_id}"
        page = link("page.html", f"Passport of {what}, verified in the browser")
        links: dict[str, Any] = {
            "anchor": f"{base}{label_path}",
            f"{GS1}defaultLink": [page],
            f"{GS1}pip": [page],
            f"{GS1}traceability": [link("epcis.json", f"Supply-chain events of {what} (GS1 EPCIS 2.0)")],
            f"{MP}proofBundle": [link("passport.json", f"Proof-carrying passport of {what}")],
            f"{MP}trustAnchor": [link("trust.json", f"Trust anchor of {self.trust.name}")],
        }
        if self._published(batch_id) is not None:
            links[UNTP_DPP] = [link("dpp.jwt", f"UNTP Digital Product Passport of {what} (vc+jwt)")]
        return {"linkset": [links]}


def _by_link_type(link_type: str | None) -> str | None:
    return {
        "all": "linkset.json",
        "linkset": "linkset.json",
        "gs1:pip": "page.html",
        "gs1:defaultLink": "page.html",
        "gs1:traceability": "epcis.json",
        "untp:dpp": "dpp.jwt",
        "mp:proofBundle": "passport.json",
        "mp:trustAnchor": "trust.json",
    }.get(link_type or "")


def _negotiate(accept: str) -> str:
    """The resource the Accept header prefers: the page, unless a linkset or JSON ranks higher."""
    best, best_q = "page.html", 0.0
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        resource = {
            LINKSET: "linkset.json",
            "application/json": "passport.json",
            "application/ld+json": "epcis.json",
            "text/html": "page.html",
        }.get(media)
        if resource is not None and q > best_q:
            best, best_q = resource, q
    return best


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, "text/plain; charset=utf-8", (message + "\n").encode(), headers or {})


def make_server(
    resolver: Resolver, host: str, port: int, limits: ServerLimits | None = None
) -> LimitedServer:
    """The resolver over HTTP, with the project's serving limits (idle timeout, request deadline,
    connection cap, backlog)."""

    class Handler(LimitedHandler):
        server_version = "passport-resolver"

        def _serve(self, head: bool) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            response = resolver.handle("GET", self.path, headers, self.client_address[0])
            extra = {"X-Content-Type-Options": "nosniff", **response.headers}
            self.respond(response.status, response.body, response.content_type, extra, head_only=head)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(head=True)

        def _refuse(self) -> None:
            self.close_connection = True  # a body, if any, is not read
            response = resolver.handle(self.command, self.path, {}, self.client_address[0])
            self.respond(response.status, response.body, response.content_type, response.headers)

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.client_address[0], redact(format % args))

    return LimitedServer((host, port), Handler, limits or ServerLimits())
