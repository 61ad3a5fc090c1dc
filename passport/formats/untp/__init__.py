"""The passport as a UNTP Digital Product Passport: a W3C VC 2.0 credential, secured with VC-JOSE
(``vc+jwt``, ES256K) and signed by the exporting member's chain key.

- The issuer is the member's account as ``did:pkh:eip155:<chainId>:<address>`` (CAIP-10). The JWS
  carries the public key (``jwk``); its keccak must be the DID's address.
- The credential carries the proof-carrying passport it was made from (``evidence``). A verifier
  checks the passport offline against the trust anchor, checks the issuer is an active member at
  the passport's block (storage proof), and rebuilds the credential from the verified passport:
  any difference is a named failure. Policies are embedded, so a custom policy is re-run too.
- ``materialsProvenance`` splits the batch's contained tungsten by origin mine through the on-chain
  lineage (processing blends by the inputs' contained tungsten; a split child keeps its parent's
  composition).

Modules: ``dids`` (did:pkh, did:web), ``jose`` (vc+jwt signing and reading), ``credentials``
(DPP, DTE and DCC builders), ``dfr`` (facility records), ``status`` (Bitstring Status Lists),
``verify`` (offline verification).
"""

from passport.formats.untp.credentials import (
    CONTEXT,
    DCC_CONTEXT,
    DCC_TYPE,
    DTE_CONTEXT,
    DTE_TYPE,
    REGULATIONS,
    TYPE,
    OnChainAttestation,
    compositions,
    dcc_credential,
    dpp_credential,
    dte_credential,
)
from passport.formats.untp.dfr import DFR_CONTEXT, DFR_TYPE, dfr_credential, verify_dfr
from passport.formats.untp.dids import did_document, did_pkh, issuer_id, parse_did_pkh, web_issuer
from passport.formats.untp.jose import ALG, MEDIA_TYPE, embedded_passport, public_jwk, read, sign
from passport.formats.untp.status import StatusList
from passport.formats.untp.verify import verify_credential

__all__ = [
    "ALG",
    "CONTEXT",
    "DCC_CONTEXT",
    "DCC_TYPE",
    "DFR_CONTEXT",
    "DFR_TYPE",
    "DTE_CONTEXT",
    "DTE_TYPE",
    "MEDIA_TYPE",
    "REGULATIONS",
    "TYPE",
    "OnChainAttestation",
    "StatusList",
    "compositions",
    "dcc_credential",
    "dfr_credential",
    "did_document",
    "did_pkh",
    "dpp_credential",
    "dte_credential",
    "embedded_passport",
    "issuer_id",
    "parse_did_pkh",
    "public_jwk",
    "read",
    "sign",
    "verify_credential",
    "verify_dfr",
    "web_issuer",
]
