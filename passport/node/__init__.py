"""The passport node: a permissioned EVM chain on py-evm (see README: The node)."""
