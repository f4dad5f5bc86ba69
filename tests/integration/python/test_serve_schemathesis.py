"""Schemathesis (pinned in scripts/requirements-schemathesis.txt, its own venv made once) against
pulse serve's OpenAPI document with the server up: generated requests for every operation, with an
admin token, and no answer may be a 5xx or stray from the document (status codes, content types,
headers and bodies as declared)."""
import hashlib
import subprocess
import sys
from pathlib import Path

from serve_util import start_serve

ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = ROOT / "scripts/requirements-schemathesis.txt"


def schemathesis_bin():
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = Path.home() / ".cache/pulse" / f"schemathesis-venv-{digest}"
    exe = venv / "bin/schemathesis"
    if not exe.exists():
        tmp = venv.with_name(venv.name + ".tmp")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(tmp)], check=True, timeout=300)
        subprocess.run([str(tmp / "bin/pip"), "install", "-q", "-r", str(REQUIREMENTS)], check=True, timeout=900)
        # The venv's scripts name their interpreter by path: rebuild at the final place.
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin/pip"), "install", "-q", "-r", str(REQUIREMENTS)], check=True, timeout=900)
        subprocess.run(["rm", "-rf", str(tmp)], check=True)
    return str(exe)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(pulse_bin, tmp_path, lake):
    exe = schemathesis_bin()
    served = start_serve(pulse_bin, tmp_path, lake, "serve.rate_per_second=1000000", "serve.rate_burst=1000000")
    try:
        proc = subprocess.run(
            [exe, "run", served.url + "/openapi.json", "-H", "Authorization: Bearer " + served.tokens["admin"],
             "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
             "response_headers_conformance,response_schema_conformance",
             "--max-examples", "40", "--seed", "1", "--phases", "examples,coverage,fuzzing", "--no-color"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path)
    finally:
        code, _, log = served.stop()
    assert proc.returncode == 0, proc.stdout[-20000:] + proc.stderr[-5000:]
    assert code == 0, log
