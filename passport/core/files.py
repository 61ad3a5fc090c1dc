"""JSON files of pydantic models: written atomically, read with one clear error per bad file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationError

from passport.exceptions import PassportFileInvalid


class JsonFile(BaseModel):
    """A frozen model with no unknown fields, kept as an indented, key-sorted JSON file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json())
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read and validate a file.

        Raises:
            PassportFileInvalid: unreadable, not JSON, or not of this model's schema.
        """
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except FileNotFoundError as exc:
            raise PassportFileInvalid(str(path), "no such file") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "document"
            raise PassportFileInvalid(str(path), f"{where}: {first['msg']}") from exc
        except (OSError, ValueError) as exc:
            raise PassportFileInvalid(str(path), f"not JSON ({exc})") from exc
