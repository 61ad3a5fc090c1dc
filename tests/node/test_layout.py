"""The node's layering: it imports nothing from the SDK (they share ``passport._utils``), and the
JSON-RPC methods import neither the HTTP server nor the node service (no import cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import passport.node.chain

NODE = Path(passport.node.chain.__file__).parent


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_node_imports_nothing_from_the_sdk() -> None:
    offenders = {
        str(path.relative_to(NODE)): sorted(m for m in imports(path) if m.startswith("passport.sdk"))
        for path in NODE.rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_the_rpc_methods_do_not_import_the_server_or_the_service() -> None:
    for path in (NODE / "rpc").glob("*.py"):
        assert not imports(path) & {"passport.node.server", "passport.node.service"}, path.name
    assert "passport.node.service" not in imports(NODE / "server.py")
