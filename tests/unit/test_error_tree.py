"""One error tree: every exception the package defines is a PassportError, so a caller (and
the CLI, which turns them into one-line errors) catches them all with one clause."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import passport
from passport.exceptions import PassportError

# Signals that must escape ``except Exception`` on purpose: a state test's wall-clock limit.
NOT_ERRORS = {"passport.node.statetests.CaseTimeout"}


def test_every_exception_defined_in_the_package_is_a_passport_error() -> None:
    defined: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(passport.__path__, "passport."):
        if info.name.startswith("passport._proto"):
            continue  # generated protobuf classes
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == info.name:
                defined[f"{info.name}.{name}"] = value
    assert len(defined) > 30  # the walk found the package's exceptions
    outside = sorted(
        n for n, cls in defined.items() if not issubclass(cls, PassportError) and n not in NOT_ERRORS
    )
    assert outside == []
