"""Names for people to read, from a passport's disclosures: "Mine A — Lang Son Tungsten (VN)"
where the facility's and operator's names were disclosed, "withheld" where the tier withheld
them, and the bare id where no record was disclosed at all."""

from __future__ import annotations

from typing import Any

from passport.records.disclosure import Disclosure

WITHHELD = "withheld"


class Names:
    def __init__(self, document: Any) -> None:
        self._by_key: dict[tuple[str, str], Disclosure] = {}
        for d in document.disclosures:
            self._by_key.setdefault(d.key, d)
        self._operators = {f.facility_id: f.operator for f in document.facilities}

    def field(self, kind: str, subject: str | int, path: str) -> str | None:
        """The disclosed value, ``WITHHELD`` when the record was disclosed without it, or None
        when no record was disclosed."""
        d = self._by_key.get((kind, str(subject).lower()))
        if d is None:
            return None
        if path in d.revealed:
            return str(d.revealed[path].value)
        return WITHHELD

    def disclosed(self, kind: str, subject: str | int) -> bool:
        return (kind, str(subject).lower()) in self._by_key

    def member(self, address: str) -> str:
        trading = self.field("member", address, "tradingName")
        if trading in (None, WITHHELD):
            trading = self.field("member", address, "legalName")
        if trading is None:
            return address
        if trading == WITHHELD:
            return f"{address} (name withheld)"
        return f"{trading} ({address[:6]}…{address[-4:]})"

    def facility(self, facility_id: int, country: str) -> str:
        """ "Mine A — Lang Son Tungsten (VN)", with "withheld" for what the tier withheld."""
        name = self.field("facility", facility_id, "name")
        operator = self._operators.get(facility_id)
        company = None
        if operator is not None:
            company = self.field("member", operator, "tradingName")
            if company in (None, WITHHELD):
                company = self.field("member", operator, "legalName") or company
        if name is None and company is None:
            return f"facility {facility_id} ({country})"
        place = name if name not in (None, WITHHELD) else f"facility {facility_id}"
        who = f" — {company}" if company not in (None, WITHHELD) else ""
        city = self.field("facility", facility_id, "address.city")
        where = f"{city}, {country}" if city not in (None, WITHHELD) else country
        hidden = [what for what, value in (("name", name), ("operator", company)) if value == WITHHELD]
        if hidden:
            where += f"; {' and '.join(hidden)} withheld"
        return f"{place}{who} ({where})"
