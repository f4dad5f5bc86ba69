"""report_browser.check_rendered against hand-written pages: it sees a drawn SVG chart, counts the
screenshot's colours exactly, and catches what a broken page does (uncaught exceptions, SVG
geometry Chromium refuses, external resources). Needs headless Chromium (scripts/bootstrap)."""
import pytest

from report_browser import check_rendered, chromium_command, decode_png, png_colour_count

GOOD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>good</title>
<style>body{margin:0;font-family:sans-serif;background:#f5f6fa} .card{margin:16px;background:#fff}</style>
</head><body>
<h1>Chart</h1>
<div class="card">
<svg class="chart fan" data-series="gdp" viewBox="0 0 640 260" width="100%">
  <rect x="0.5" y="0.5" width="639" height="259" fill="#ffffff" stroke="#d9dee7"/>
  <polygon class="band" points="400,120 630,40 630,200" fill="#9ecae1" fill-opacity="0.6"/>
  <polygon class="band" points="400,120 630,90 630,150" fill="#2f7fc1" fill-opacity="0.6"/>
  <path class="history" d="M60,220L120,200L200,180L300,150L400,120" fill="none" stroke="#333333" stroke-width="2"/>
  <path class="mean" d="M400,120L630,120" fill="none" stroke="#0b3d91" stroke-width="2"/>
  <text x="60" y="250" fill="#555555">2000 Q1</text>
</svg>
</div></body></html>
"""

BAD = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>bad</title></head><body><p>broken</p>
<script>throw new Error("boom")</script>
</body></html>
"""

NAN_PATH = """<!DOCTYPE html>
<html><body><svg viewBox="0 0 10 10"><path d="M0,0 L nan,nan" stroke="black"/></svg>
<img src="https://example.invalid/logo.png" alt=""></body></html>
"""

STRIPES = """<!DOCTYPE html>
<html><head><style>body{margin:0} div{height:1000px}</style></head><body>
<div style="background:#ff0000"></div><div style="background:#00ff00"></div>
<div style="background:#0000ff"></div><div style="background:#123456"></div>
</body></html>
"""


@pytest.fixture(scope="module")
def chromium():
    """Fails (never skips) the browser tests when headless Chromium is missing."""
    try:
        return chromium_command()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)


def render(tmp_path, name, html):
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return check_rendered(path, tmp_path / "out")


def test_good_page_draws_its_chart(tmp_path, chromium):
    r = render(tmp_path, "good", GOOD)
    assert r["console_errors"] == []
    assert r["svg_count"] >= 1
    assert r["nonempty_paths"] == 2
    assert r["nonempty_polygons"] == 2
    assert r["external_refs"] == []
    assert r["png"].endswith("good.png")
    assert r["png_size"] == (1400, 4000)
    assert r["png_colours"] > 3, r["png_colours"]
    assert 'data-series="gdp"' in r["dom"]


def test_uncaught_exception_is_a_console_error(tmp_path, chromium):
    r = render(tmp_path, "bad", BAD)
    assert any("boom" in e for e in r["console_errors"]), r["console_errors"]
    assert r["svg_count"] == 0


def test_unparseable_svg_geometry_and_external_resources_are_caught(tmp_path, chromium):
    r = render(tmp_path, "nan_path", NAN_PATH)
    assert any("attribute d" in e for e in r["console_errors"]), r["console_errors"]
    assert r["external_refs"] == ["https://example.invalid/logo.png"]


def test_colour_count_is_exact(tmp_path, chromium):
    r = render(tmp_path, "stripes", STRIPES)
    assert r["console_errors"] == []
    assert r["png_colours"] == 4


def test_png_decoder_undoes_every_filter():
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    # 3x4 RGB, one row per filter: Sub, Up, Paeth (with a wrap past 255), Average.
    filtered = [bytes([1, 10, 20, 30, 5, 5, 5, 1, 1, 1]),
                bytes([2, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
                bytes([4, 1, 1, 1, 0, 0, 0, 240, 0, 0]),
                bytes([3, 2, 2, 2, 0, 0, 0, 0, 0, 0])]
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 4, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(filtered))) + chunk(b"IEND", b""))
    width, height, bits, rows, palette = decode_png(png)
    assert (width, height, bits, palette) == (3, 4, 24, None)
    assert rows == [bytes([10, 20, 30, 15, 25, 35, 16, 26, 36]),
                    bytes([10, 20, 30, 15, 25, 35, 16, 26, 36]),
                    bytes([11, 21, 31, 15, 25, 35, 0, 26, 36]),
                    bytes([7, 12, 17, 11, 18, 26, 5, 22, 31])]
    assert png_colour_count(png) == (3, 4, 8)
    with pytest.raises(ValueError):
        png_colour_count(b"GIF89a")
