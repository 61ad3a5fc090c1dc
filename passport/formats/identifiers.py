"""Identifiers in the standard formats: GS1 Digital Link URIs where the member configured a GTIN
(batch documents record, ``gtin``) or a GLN (facility record, ``gln``) and disclosed it in the
passport, and URNs of ours otherwise:

- batch: ``https://id.gs1.org/01/<GTIN-14>/10/<batch id>`` or
  ``urn:mineral-passport:batch:<chainId>:<passport contract>:<batch id>``;
- facility: ``https://id.gs1.org/414/<GLN>`` or
  ``urn:mineral-passport:facility:<chainId>:<consortium contract>:<facility id>``.

A disclosed value is proven against its record's on-chain root by the passport's verification, so
a verifier rebuilding a credential from the verified passport gets the same identifiers.
"""

from __future__ import annotations

from passport.core.document import PassportDocument
from passport.records.names import WITHHELD, Names

URN = "urn:mineral-passport"
DIGITAL_LINK = "https://id.gs1.org"


class Identifiers:
    def __init__(self, document: PassportDocument) -> None:
        self.ref = document.chain
        self.names = Names(document)
        parents = {e.child: e.parent for e in document.lineage.edges if e.via == "split"}
        self._split_parent = parents

    def gtin(self, batch_id: int) -> str | None:
        """The batch's disclosed GTIN (a split child shares its parent's documents)."""
        gtin = self._disclosed("batch", batch_id, "gtin")
        if gtin is None and batch_id in self._split_parent:
            gtin = self._disclosed("batch", self._split_parent[batch_id], "gtin")
        return gtin

    def batch(self, batch_id: int) -> str:
        gtin = self.gtin(batch_id)
        if gtin is not None:
            return f"{DIGITAL_LINK}/01/{gtin}/10/{batch_id}"
        return f"{URN}:batch:{self.ref.chain_id}:{self.ref.passport}:{batch_id}"

    def facility(self, facility_id: int) -> str:
        gln = self._disclosed("facility", facility_id, "gln")
        return facility_uri(self.ref.chain_id, self.ref.consortium, facility_id, gln)

    def _disclosed(self, kind: str, subject: int, field: str) -> str | None:
        value = self.names.field(kind, subject, field)
        return None if value in (None, WITHHELD) else value


def facility_uri(chain_id: int, consortium: str, facility_id: int, gln: str | None) -> str:
    """A facility's identifier wherever it appears (EPCIS, the DPP's producedAtFacility, the DCC,
    the facility's own DFR): its GS1 Digital Link by GLN when its record discloses one, else ours."""
    if gln is not None:
        return f"{DIGITAL_LINK}/414/{gln}"
    return f"{URN}:facility:{chain_id}:{consortium}:{facility_id}"
