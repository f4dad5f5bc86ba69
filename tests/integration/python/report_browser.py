"""Renders an HTML file in headless Chromium and reports what a person would see.

    from report_browser import check_rendered
    result = check_rendered("report.html", out_dir)

returns a dict:
    png             path of a 1400x4000 screenshot (out_dir/<html stem>.png)
    dom             the DOM after loading, as serialized by Chromium (--dump-dom)
    console_errors  list of str, one per message the page produced: console messages and uncaught
                    exceptions ("Uncaught Error: boom (file:///…/bad.html:1)"), SVG/HTML parse errors
                    that Blink reports to the console ("Error: <path> attribute d: Expected number …"),
                    and Chromium ":ERROR:" log lines that name the page. Chromium's log does not carry
                    the console level, so console.log counts too: a report page has no script, and
                    anything it logs is a fault. Chromium's own noise (dbus, GPU, sandbox, …) is ignored.
    svg_count       number of <svg> elements in the DOM
    nonempty_paths  number of <path> elements whose d attribute holds coordinates
    nonempty_polygons  number of <polygon> elements whose points attribute holds coordinates
    png_colours     number of distinct pixel values in the screenshot (decoded with zlib, no Pillow)
    png_size        (width, height) of the screenshot
    external_refs   src/href/url(...) references in the DOM to http(s):// or protocol-relative URLs

Chromium: $PULSE_CHROMIUM if set, else /usr/bin/chromium-headless-shell (Debian 12 package
`chromium-headless-shell`, installed by scripts/bootstrap), else `chromium --headless`. Runs with
--no-sandbox --disable-gpu (the tests run as root, without a GPU) and a throwaway profile.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

WINDOW = (1400, 4000)
TIMEOUT_S = 120

_CONSOLE = re.compile(r':CONSOLE(?:\(\d+\)|:\d+)\]\s*"(?P<msg>.*)", source: (?P<src>\S*) \((?P<line>\d+)\)\s*$')
_PATH_D = re.compile(r'<path\b[^>]*?\sd="([^"]*)"', re.I)
_POLYGON_POINTS = re.compile(r'<polygon\b[^>]*?\spoints="([^"]*)"', re.I)
_EXTERNAL = re.compile(r'''(?:\b(?:src|href|xlink:href|srcset|poster|data|action)\s*=\s*["']?\s*|url\(\s*["']?)((?:https?:)?//[^"')\s>]+)''', re.I)


def chromium_command() -> list[str]:
    """The command line that starts headless Chromium; raises if none is installed."""
    override = os.environ.get("PULSE_CHROMIUM")
    if override:
        if not (Path(override).is_file() and os.access(override, os.X_OK)):
            raise RuntimeError(f"PULSE_CHROMIUM={override} is not an executable file (unset it to use the "
                               "chromium-headless-shell that scripts/bootstrap installs)")
        return [override] if "headless-shell" in Path(override).name else [override, "--headless"]
    for shell in ("/usr/bin/chromium-headless-shell", shutil.which("chromium-headless-shell")):
        if shell and Path(shell).is_file() and os.access(shell, os.X_OK):
            return [shell]
    for browser in ("/usr/bin/chromium", shutil.which("chromium")):
        if browser and Path(browser).is_file() and os.access(browser, os.X_OK):
            return [browser, "--headless"]
    raise RuntimeError(
        "headless Chromium not found (looked for /usr/bin/chromium-headless-shell, chromium-headless-shell "
        "and chromium on PATH): run scripts/bootstrap, which installs the Debian package "
        "chromium-headless-shell, or set PULSE_CHROMIUM to a Chromium binary")


def check_rendered(html_path, out_dir) -> dict:
    """Loads html_path in headless Chromium; see the module docstring for the result."""
    html = Path(html_path).resolve()
    if not html.is_file():
        raise FileNotFoundError(f"no HTML file at {html}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"{html.stem}.png"
    if png.exists():
        png.unlink()
    url = html.as_uri()
    with tempfile.TemporaryDirectory(prefix="pulse-chromium-") as profile:
        cmd = chromium_command() + [
            "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--mute-audio",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={png}", "--dump-dom", url,
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"headless Chromium did not finish within {TIMEOUT_S} s: {' '.join(cmd)}") from e
    if proc.returncode != 0 or not png.is_file():
        raise RuntimeError(f"headless Chromium failed (exit {proc.returncode}, screenshot "
                           f"{'written' if png.is_file() else 'missing'}): {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    dom = proc.stdout
    width, height, colours = png_colour_count(png.read_bytes())
    return {
        "png": str(png),
        "dom": dom,
        "console_errors": page_errors(proc.stderr, url, str(html)),
        "svg_count": len(re.findall(r"<svg\b", dom, re.I)),
        "nonempty_paths": sum(1 for d in _PATH_D.findall(dom) if re.search(r"\d", d)),
        "nonempty_polygons": sum(1 for p in _POLYGON_POINTS.findall(dom) if re.search(r"\d", p)),
        "png_colours": colours,
        "png_size": (width, height),
        "external_refs": sorted(set(_EXTERNAL.findall(dom))),
    }


def page_errors(log: str, url: str, path: str) -> list[str]:
    """The messages in Chromium's stderr log that come from the page (see the module docstring)."""
    errors = []
    for line in log.splitlines():
        m = _CONSOLE.search(line)
        if m:
            where = f" ({m['src']}:{m['line']})" if m["src"] else ""
            errors.append(m["msg"] + where)
        elif ":CONSOLE" in line:
            errors.append(line.split("] ", 1)[-1].strip())
        elif ":ERROR:" in line and (url in line or path in line):
            errors.append(line.split("] ", 1)[-1].strip())
    return errors


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes], bytes | None]:
    """(width, height, bits per pixel, unfiltered rows, palette or None) of a non-interlaced PNG,
    decoded with zlib only."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, palette = 8, [], None
    width = height = depth = colour_type = interlace = None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if width is None:
        raise ValueError("PNG without IHDR")
    if interlace:
        raise ValueError("interlaced PNG is not supported")
    if colour_type not in (0, 2, 3, 4, 6):
        raise ValueError(f"bad PNG colour type {colour_type}")
    bits = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type] * depth
    stride = (width * bits + 7) // 8
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (stride + 1):
        raise ValueError(f"PNG data too short: {len(raw)} bytes for {width}x{height}")
    # The filters work on whole pixels, or on bytes below 8 bits per pixel.
    return width, height, bits, _unfilter(raw, height, stride, max(1, bits // 8)), palette


def png_colour_count(data: bytes) -> tuple[int, int, int]:
    """(width, height, number of distinct pixel values) of a non-interlaced PNG."""
    width, height, bits, rows, palette = decode_png(data)
    colours: set = set()
    if bits % 8 == 0:
        size = bits // 8
        for row in set(rows):  # identical rows (the page background) need counting once
            colours.update(row[i:i + size] for i in range(0, len(row), size))
    else:  # 1, 2 or 4 bits per pixel (grey or palette)
        for row in set(rows):
            value, total = int.from_bytes(row, "big"), len(row) * 8
            colours.update((value >> (total - (x + 1) * bits)) & ((1 << bits) - 1) for x in range(width))
    if palette is not None and bits <= 8:  # distinct palette entries can repeat a colour
        indices = (c[0] if isinstance(c, bytes) else c for c in colours)
        colours = {palette[3 * i:3 * i + 3] for i in indices}
    return width, height, len(colours)


def _unfilter(raw: bytes, height: int, stride: int, bpp: int) -> list[bytes]:
    """Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    low = int.from_bytes(b"\x7f" * stride, "little")
    high = int.from_bytes(b"\x80" * stride, "little")

    def add(a: bytes, b: bytes) -> bytes:  # bytewise (a + b) mod 256, all bytes at once
        x, y = int.from_bytes(a, "little"), int.from_bytes(b, "little")
        return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(stride, "little")

    rows: list[bytes] = []
    prev = bytes(stride)
    pos = 0
    for _ in range(height):
        kind, line = raw[pos], raw[pos + 1:pos + 1 + stride]
        pos += stride + 1
        if kind == 0:
            cur = bytes(line)
        elif kind == 2:
            cur = add(line, prev)
        elif kind in (1, 3, 4):
            out = bytearray(line)
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                if kind == 1:
                    out[i] = (out[i] + a) & 0xFF
                elif kind == 3:
                    out[i] = (out[i] + ((a + prev[i]) >> 1)) & 0xFF
                else:
                    b = prev[i]
                    c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            cur = bytes(out)
        else:
            raise ValueError(f"bad PNG filter type {kind}")
        rows.append(cur)
        prev = cur
    return rows
