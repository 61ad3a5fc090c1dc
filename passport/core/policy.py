"""Policy checks over a passport. Policies are data (JSON): the shipped ones live in
``passport/policies/``; users pass their own file with the same rule types."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from passport._utils.files import load_shipped_or_file, shipped_names
from passport.core.compare import Failure
from passport.core.document import FacilityKindName, PassportDocument
from passport.exceptions import PolicyError
from passport.records.names import WITHHELD, Names


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForbiddenCountries(_Rule):
    """No step of any ancestor in one of these ISO 3166 alpha-2 countries."""

    type: Literal["forbidden-countries"]
    countries: list[str] = Field(min_length=1)
    steps: list[Literal["mined", "refined", "converted", "recycled", "produced"]] = Field(min_length=1)


class Untainted(_Rule):
    """Neither the batch nor any ancestor is tainted."""

    type: Literal["untainted"]


class OriginAttestation(_Rule):
    """Every origin (minted ancestor) is covered by a valid attestation of ``schema`` on its
    facility (``subject: facility``) or on the origin batch itself (``subject: batch``)."""

    type: Literal["origin-attestation"]
    schema_name: str = Field(alias="schema")
    subject: Literal["facility", "batch"] = "facility"


class DisclosedField(_Rule):
    """Every facility of the lineage of one of ``kinds`` (e.g. every refinery) has its record
    disclosed in the passport with ``field`` revealed (e.g. ``rmiSmelterId``, ``licence.number``).
    Disclosures are checked against the chain by ``passport passport verify``."""

    type: Literal["disclosed-field"]
    record: Literal["facility"] = "facility"
    field: str = Field(min_length=1)
    kinds: list[FacilityKindName] = Field(min_length=1)


class DeviceWeighed(_Rule):
    """Every origin lot (minted ancestor) was weighed by a device of its facility: the passport
    carries a reading of ``kind`` in ``unit`` whose value is within ``tolerance_bps`` of the minted
    mass. The verifier proves each reading: the device's signature and binding to the facility,
    the reading in the lot's document root and in a window anchored before the mint."""

    type: Literal["device-weighed"]
    kind: str = "net-mass"
    unit: Literal["g"] = "g"
    tolerance_bps: int = Field(default=50, ge=0, le=10_000)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    rules: list[ForbiddenCountries | Untainted | OriginAttestation | DisclosedField | DeviceWeighed] = Field(
        min_length=1
    )


@dataclass(frozen=True, slots=True)
class PolicyResult:
    policy: str
    batch_id: int
    passed: bool  # the name JSON outputs (``passport check --json``) and the page give it
    reasons: list[str]
    tier: str | None = None  # the disclosure tier of the passport checked

    @property
    def ok(self) -> bool:
        """``passed``, under the name every check of the SDK answers with (:class:`Checked`)."""
        return self.passed

    @property
    def failures(self) -> list[Failure]:
        """Each reason as a :class:`Failure` of this policy (the shape every check reports)."""
        return [Failure(f"policy {self.policy}", reason) for reason in self.reasons]


def builtin_policies() -> list[str]:
    return shipped_names(resources.files("passport.policies"))


def load_policy(name_or_path: str) -> Policy:
    """A shipped policy by name (``dfars-2027``, ``eu-2017-821``) or a policy JSON file.

    Raises:
        PolicyError: unknown name, unreadable file, or malformed policy.
    """
    folder = resources.files("passport.policies")
    return load_shipped_or_file(
        Policy, name_or_path, folder, ("policy", "policies"), lambda reason: PolicyError(name_or_path, reason)
    )


def check(document: PassportDocument, policy: Policy) -> PolicyResult:
    """Evaluate every rule; the result lists each reason for failure."""
    reasons: list[str] = []
    for rule in policy.rules:
        reasons += _evaluate(rule, document)
    return PolicyResult(policy.name, document.product.batch_id, not reasons, reasons, document.tier)


def _evaluate(rule: Any, doc: PassportDocument) -> list[str]:
    if isinstance(rule, ForbiddenCountries):
        forbidden = set(rule.countries)
        return [
            f"{step} in {country} (forbidden by {', '.join(sorted(forbidden))})"
            for step in rule.steps
            for country in doc.stage_countries.get(step, [])
            if country in forbidden
        ]
    if isinstance(rule, Untainted):
        out = []
        countries = {f.facility_id: f.country for f in doc.facilities}
        names = Names(doc)
        for s in doc.taint.sources:
            if s.reason == "sanctioned-facility" and s.facility_id is not None:
                site = f"facility {s.facility_id}"
                if names.disclosed("facility", s.facility_id):
                    site = names.facility(s.facility_id, countries.get(s.facility_id, "??"))
                out.append(f"tainted: batch {s.batch_id} comes from sanctioned {site}")
            elif s.reason == "regulator":
                out.append(f"tainted: batch {s.batch_id} was flagged by a regulator")
        if doc.taint.tainted and not out:
            out.append("tainted: an ancestor carries inherited taint")
        return out
    if isinstance(rule, DisclosedField):
        return _disclosed(rule, doc)
    if isinstance(rule, DeviceWeighed):
        return _weighed(rule, doc)
    assert isinstance(rule, OriginAttestation)
    wanted_kind = "FACILITY" if rule.subject == "facility" else "BATCH"
    valid = {
        a.subject
        for a in doc.attestations
        if a.schema_name == rule.schema_name and a.subject_kind == wanted_kind and a.status == "valid"
    }
    out = []
    for origin in doc.origins:
        subject = origin.facility_id if rule.subject == "facility" else origin.batch_id
        if subject not in valid:
            what = (
                Names(doc).facility(origin.facility_id, origin.country)
                if rule.subject == "facility"
                else f"batch {origin.batch_id}"
            )
            out.append(f"origin batch {origin.batch_id}: no valid {rule.schema_name!r} attestation on {what}")
    return out


def _disclosed(rule: DisclosedField, doc: PassportDocument) -> list[str]:
    names = Names(doc)
    out = []
    for f in doc.facilities:
        if f.kind not in rule.kinds:
            continue
        value = names.field("facility", f.facility_id, rule.field)
        who = names.facility(f.facility_id, f.country)
        if value is None:
            out.append(f"{who}: no record disclosed ({rule.field} required)")
        elif value == WITHHELD:
            out.append(f"{who}: {rule.field} withheld")
    return out


def _weighed(rule: DeviceWeighed, doc: PassportDocument) -> list[str]:
    out = []
    for origin in doc.origins:
        found = [
            w.reading.value
            for w in doc.readings
            if w.batch_id == origin.batch_id and w.reading.kind == rule.kind and w.reading.unit == rule.unit
        ]
        if not found:
            out.append(
                f"origin batch {origin.batch_id}: no {rule.kind} reading from a device of its facility"
            )
            continue
        limit = origin.mass_grams * rule.tolerance_bps / 10_000
        if not any(abs(v - origin.mass_grams) <= limit for v in found):
            closest = min(found, key=lambda v: abs(v - origin.mass_grams))
            out.append(
                f"origin batch {origin.batch_id}: minted {origin.mass_grams:,} g, "
                f"the device read {closest:,} g "
                f"(tolerance {rule.tolerance_bps / 100:g} %)"
            )
    return out
