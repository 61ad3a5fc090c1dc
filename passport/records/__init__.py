"""Records and selective disclosure: salted fields under on-chain roots, the member's vault,
tiers, and disclosure packages. Imports no web3 (the offline verifier uses it)."""
