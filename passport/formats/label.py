"""QR labels for drums and cylinders: the passport's URL as a QR code (segno), with the URL and a
human-readable line printed under it.

The URL is a GS1 Digital Link, ``https://<resolver>/01/<GTIN>/10/<batch id>``, when the batch (or
the lot it was split from) has a GTIN in its documents record, and
``https://<resolver>/passport/<chainId>/<batchId>`` otherwise.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.sax.saxutils import escape

import segno

from passport._utils.files import atomic_write
from passport.exceptions import RecordError

HOST = re.compile(r"^([a-z0-9-]+(\.[a-z0-9-]+)+|localhost|\[::1\])(:[0-9]{1,5})?$")
# a resolver on this machine (`passport serve` answers plain HTTP): its labels use http://
LOOPBACK = re.compile(r"^(localhost|127(\.[0-9]{1,3}){3}|\[::1\])(:[0-9]{1,5})?$")


def passport_url(resolver: str, chain_id: int, batch_id: int, gtin: str | None) -> str:
    """The label's URL.

    Raises:
        RecordError: ``resolver`` is not a host name (with an optional port). A resolver on this
            machine (``localhost:8088``, ``127.0.0.1:8088``) gets an ``http://`` URL, since
            ``passport serve`` answers plain HTTP; any other host ``https://``.
    """
    text = resolver.strip().rstrip("/").lower()
    host = text.removeprefix("https://").removeprefix("http://")
    if not HOST.match(host):
        raise RecordError(
            "--resolver", f"{resolver!r} is not a host name such as id.example.com (or localhost:8088)"
        )
    local = LOOPBACK.match(host) is not None
    if text.startswith("http://") and not local:
        raise RecordError("--resolver", f"{resolver!r}: http:// only for a resolver on this machine")
    scheme = "http" if local else "https"
    if gtin is not None:
        return f"{scheme}://{host}/01/{gtin}/10/{batch_id}"
    return f"{scheme}://{host}/passport/{chain_id}/{batch_id}"


def write_label(url: str, caption: str, out: Path) -> None:
    """An SVG or PNG label (by ``out``'s suffix): the QR code, then ``caption`` and the URL.

    Raises:
        RecordError: the suffix is neither .svg nor .png.
    """
    qr = segno.make(url, error="m", micro=False)
    scale, border = 8, 4
    suffix = out.suffix.lower()
    if suffix == ".svg":
        atomic_write(out, _svg(qr, caption, url, scale, border))
    elif suffix == ".png":
        atomic_write(out, _png(qr, caption, url, scale, border))
    else:
        raise RecordError(str(out), "a label is .svg or .png")


CAPTION_PX, URL_PX, LINE_PX, MARGIN_PX = 16, 14, 22, 12
EM_PER_CHAR = 0.64  # wider than DejaVu Sans' or Arial's widest digits, so no caption is clipped


def _svg(qr: segno.QRCode, caption: str, url: str, scale: int, border: int) -> str:
    """The QR code, with the caption and the URL under it; the label is as wide as the longer of
    the code and the text, so neither is ever clipped."""
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True)
    code = buffer.getvalue().decode()
    size, _ = qr.symbol_size(scale=scale, border=border)
    lines = [(caption, CAPTION_PX), (url, URL_PX)]
    text = max(int(len(line) * px * EM_PER_CHAR) for line, px in lines) + 2 * MARGIN_PX
    width = max(size, text)
    height = size + LINE_PX * len(lines) + 10
    code = code.replace("<svg ", f'<svg x="{(width - size) // 2}" y="0" ', 1)
    texts = "".join(
        f'<text x="{width // 2}" y="{size + 20 + LINE_PX * n}" text-anchor="middle" '
        f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{px}">{escape(line)}</text>'
        for n, (line, px) in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="{width}" height="{height}" fill="#fff"/>'
        f"{code}{texts}</svg>"
    )


def _png(qr: segno.QRCode, caption: str, url: str, scale: int, border: int) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=border)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    font = ImageFont.load_default(size=16)
    lines = [caption, url]
    draw_probe = ImageDraw.Draw(code)
    text_width = max(int(draw_probe.textlength(line, font=font)) for line in lines) + 2 * scale * border
    width = max(code.width, text_width)
    label = Image.new("L", (width, code.height + 24 * len(lines) + 10), 255)
    label.paste(code, ((width - code.width) // 2, 0))
    draw = ImageDraw.Draw(label)
    for n, line in enumerate(lines):
        x = (width - draw.textlength(line, font=font)) / 2
        draw.text((x, code.height + 4 + 24 * n), line, fill=0, font=font)
    out = io.BytesIO()
    label.save(out, format="PNG", optimize=True)
    return out.getvalue()
