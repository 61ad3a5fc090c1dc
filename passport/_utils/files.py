"""Files written atomically (the one place that does it), and JSON files of pydantic models
read with one clear error per bad file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from passport.exceptions import PassportFileInvalid

M = TypeVar("M", bound=BaseModel)


def first_error(exc: ValidationError) -> str:
    """A validation error in one line: where (the dotted path; ``document`` at the top) and what."""
    first = exc.errors()[0]
    return f"{'.'.join(map(str, first['loc'])) or 'document'}: {first['msg']}"


def parse_model(model: type[M], text: str | bytes, fail: Callable[[str], Exception]) -> M:
    """``text`` (JSON) as ``model``; else ``fail(reason)`` is raised, the reason in one line:
    the first field that does not validate, or why it is not JSON."""
    try:
        return model.model_validate(json.loads(text))
    except ValidationError as exc:
        raise fail(first_error(exc)) from exc
    except ValueError as exc:
        raise fail(f"not JSON ({exc})") from exc


def shipped_names(folder: Traversable) -> list[str]:
    """The names of the ``<name>.json`` files shipped in a package folder."""
    return sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))


def load_shipped_or_file(
    model: type[M],
    name_or_path: str,
    folder: Traversable,
    what: tuple[str, str],
    fail: Callable[[str], Exception],
) -> M:
    """The shipped ``<name_or_path>.json`` of ``folder`` or, when no such name is shipped, the file
    at ``name_or_path``, as ``model``; else ``fail(reason)`` is raised, naming the shipped ones
    when there is no such file either (``what``: singular and plural, as ``("tier", "tiers")``)."""
    shipped = shipped_names(folder)
    if name_or_path in shipped:
        text = folder.joinpath(f"{name_or_path}.json").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise fail(f"no such {what[0]}; shipped {what[1]}: {', '.join(shipped)}")
        try:
            text = path.read_text()
        except OSError as exc:
            raise fail(str(exc)) from exc
    return parse_model(model, text, fail)


def load_model(model: type[M], path: Path) -> M:
    """The file at ``path`` as ``model``.

    Raises:
        PassportFileInvalid: no such file, unreadable, not JSON, or not of the model's schema.
    """
    try:
        text = path.read_bytes()
    except FileNotFoundError as exc:
        raise PassportFileInvalid(str(path), "no such file") from exc
    except OSError as exc:
        raise PassportFileInvalid(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    return parse_model(model, text, lambda reason: PassportFileInvalid(str(path), reason))


def atomic_write(path: Path, data: bytes | str, tmp_dir: Path | None = None) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` so that a reader, or a crash at any moment,
    finds the old file or the new one, never half of one: a temporary file beside ``path`` (or
    in ``tmp_dir``, on the same filesystem), fsynced, renamed over ``path``, and the directory
    fsynced so the rename itself survives a power cut. The temporary file is removed on error.

    Raises:
        OSError: the directory cannot be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = (tmp_dir or path.parent) / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class JsonFile(BaseModel):
    """A frozen model with no unknown fields, kept as an indented, key-sorted JSON file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically (:func:`atomic_write`)."""
        atomic_write(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read and validate a file.

        Raises:
            PassportFileInvalid: unreadable, not JSON, or not of this model's schema.
        """
        return load_model(cls, path)
