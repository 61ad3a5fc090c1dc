"""Mosquitto (Debian's package) on a free loopback port, for the gateway's tests and benchmark."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from passport.exceptions import ToolchainError
from passport.toolchain.anvil import free_port, wait_port

BINARY = "/usr/sbin/mosquitto"


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto") or BINARY
    return found if Path(found).exists() else None


class Mosquitto:
    """A broker on 127.0.0.1 (anonymous, no persistence, no in-flight or queue limits); a
    context manager, so it always stops. ``url`` is ``mqtt://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise ToolchainError(
                "mosquitto is not installed (Debian package mosquitto; make setup installs it)"
            )
        self.binary = binary
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._dir = tempfile.TemporaryDirectory()
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        conf = Path(self._dir.name) / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_inflight_messages 0\nmax_queued_messages 0\n"
        )
        log = (Path(self._dir.name) / "log").open("wb")
        self._process = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=log)
        log.close()
        try:
            wait_port(self.port)
        except TimeoutError:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._dir.cleanup()
