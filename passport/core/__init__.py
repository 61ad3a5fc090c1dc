"""The domain model shared by the SDK and the offline verifier: contract vocabulary, the passport
document, event decoding, the derivation of a passport's claims from chain data, and policies.

Nothing here imports web3 or py-evm, so ``passport.evidence`` can embed it.
"""
