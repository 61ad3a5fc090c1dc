#!/usr/bin/env python3
"""Add the Foundry binaries of every platform to package-lock.json.

The package registry these machines reach serves only the linux-x64 builds of
@foundry-rs/{forge,anvil,cast}, so `npm install` leaves the other platforms out of the lock
and `npm ci` then rejects the lock as out of sync. This records them as optional, os/cpu-gated
entries without a tarball address: npm skips them on other platforms and, on their own
platform, fetches them from the registry by name. Run after every `npm install`.
"""

from __future__ import annotations

import json
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "package-lock.json"
PLATFORMS = {
    "darwin-amd64": ("darwin", "x64"),
    "darwin-arm64": ("darwin", "arm64"),
    "linux-amd64": ("linux", "x64"),
    "linux-arm64": ("linux", "arm64"),
    "win32-amd64": ("win32", "x64"),
}


def main() -> None:
    lock = json.loads(LOCK.read_text())
    packages = lock["packages"]
    for tool in ("anvil", "cast", "forge"):
        version = packages[f"node_modules/@foundry-rs/{tool}"]["version"]
        for platform, (os_name, cpu) in PLATFORMS.items():
            key = f"node_modules/@foundry-rs/{tool}-{platform}"
            packages.setdefault(
                key,
                {
                    "version": version,
                    "cpu": [cpu],
                    "dev": True,
                    "license": "MIT OR Apache-2.0",
                    "optional": True,
                    "os": [os_name],
                    "engines": {"node": ">=20"},
                },
            )
    lock["packages"] = dict(sorted(packages.items(), key=lambda kv: (kv[0] != "", kv[0])))
    LOCK.write_text(json.dumps(lock, indent=2) + "\n")


if __name__ == "__main__":
    main()
