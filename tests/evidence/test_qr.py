"""QR labels decoded by an independent decoder (zbarimg, Debian's zbar-tools): the plain resolver
URL, and the GS1 Digital Link when the vault knows the batch's GTIN (a split child's from its
parent lot)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from passport.cli import cli
from passport.exceptions import RecordError
from passport.formats import label
from tests.evidence.conftest import Exported, chain_args

pytestmark = pytest.mark.slow
ZBARIMG = shutil.which("zbarimg")
needs_zbar = pytest.mark.skipif(
    ZBARIMG is None and not os.environ.get("CI"),
    reason="zbarimg (zbar-tools) is installed by make setup as root",
)


def _decode(path: Path) -> str:
    assert ZBARIMG is not None, "zbarimg is required in CI (make setup installs zbar-tools)"
    out = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.strip()


def _qr(node_export: Exported, batch: int, out: Path, vault: str | None = None) -> dict[str, str]:
    args = chain_args(node_export)
    extra = ["--vault", vault] if vault else ["--vault", str(out.parent / "no-vault")]
    result = CliRunner().invoke(
        cli,
        [
            "passport",
            "qr",
            str(batch),
            "--out",
            str(out),
            "--resolver",
            "id.polder-semiconductor.example",
            *extra,
            *args,
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


@needs_zbar
def test_label_decodes_to_the_resolver_url(node_export: Exported, tmp_path: Path) -> None:
    wf6 = node_export.result.batches["wf6"]
    data = _qr(node_export, wf6, tmp_path / "wf6.png")
    assert data["url"] == f"https://id.polder-semiconductor.example/passport/1337/{wf6}"
    assert _decode(tmp_path / "wf6.png") == data["url"]
    svg = _qr(node_export, wf6, tmp_path / "wf6.svg")
    text = (tmp_path / "wf6.svg").read_text()
    assert "<svg" in text and data["url"] in text and "WF6 batch" in text
    assert svg["url"] == data["url"]


@needs_zbar
def test_label_is_a_gs1_digital_link_when_the_gtin_is_known(node_export: Exported, tmp_path: Path) -> None:
    split_child = node_export.result.batches["split-1"]  # lot 1's GTIN is in mine A's vault
    data = _qr(node_export, split_child, tmp_path / "lot.png", str(node_export.out / "vaults" / "mine-a"))
    assert data["url"] == f"https://id.polder-semiconductor.example/01/09520999000108/10/{split_child}"
    assert _decode(tmp_path / "lot.png") == data["url"]


def test_bad_resolver_and_suffix_are_refused(node_export: Exported, tmp_path: Path) -> None:
    args = chain_args(node_export)
    wf6 = str(node_export.result.batches["wf6"])
    bad = CliRunner().invoke(
        cli, ["passport", "qr", wf6, "--out", str(tmp_path / "a.png"), "--resolver", "not a host", *args]
    )
    assert bad.exit_code == 1 and "is not a host name" in str(bad.exception)
    wrong = CliRunner().invoke(
        cli, ["passport", "qr", wf6, "--out", str(tmp_path / "a.gif"), "--resolver", "id.example.com", *args]
    )
    assert wrong.exit_code == 1 and "a label is .svg or .png" in str(wrong.exception)
    assert not (tmp_path / "a.gif").exists() and not (tmp_path / "a.png").exists()


@pytest.mark.parametrize(
    ("resolver", "url"),
    [
        ("id.example.com", "https://id.example.com/passport/1337/7"),
        ("https://ID.example.com/", "https://id.example.com/passport/1337/7"),
        ("localhost:8088", "http://localhost:8088/passport/1337/7"),
        ("http://127.0.0.1:8088", "http://127.0.0.1:8088/passport/1337/7"),
    ],
)
def test_a_local_resolver_gets_a_plain_http_label(resolver: str, url: str) -> None:
    assert label.passport_url(resolver, 1337, 7, None) == url


@pytest.mark.parametrize("resolver", ["not a host", "http://id.example.com", "localhost:8088/x", ""])
def test_resolvers_that_are_not_hosts_are_refused(resolver: str) -> None:
    with pytest.raises(RecordError, match="--resolver"):
        label.passport_url(resolver, 1337, 7, None)


@pytest.mark.parametrize(
    "url",
    [
        "https://id.polder-semiconductor.example/01/09520999000108/10/4294967295",
        "http://localhost:8088/passport/1337/7",
    ],
)
def test_the_svg_caption_and_url_fit_the_label(url: str, tmp_path: Path) -> None:
    from PIL import ImageFont

    out = tmp_path / "label.svg"
    label.write_label(url, "WF6 batch 4294967295 — Ulsan WF6 plant, KR", out)
    svg = out.read_text()
    width = int(re.search(r'<svg [^>]*width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    texts = re.findall(r'<text x="(\d+)"[^>]*font-size="(\d+)">([^<]*)</text>', svg)
    assert [t[2] for t in texts][1] == url
    for x, size, text in texts:
        try:
            font = ImageFont.truetype("DejaVuSans.ttf", int(size))
        except OSError:
            pytest.skip("DejaVu Sans is not installed (Debian: fonts-dejavu-core)")
        drawn = font.getlength(html.unescape(text))
        assert drawn <= width - 8 and int(x) == width // 2, (text, drawn, width)  # centred, not clipped
