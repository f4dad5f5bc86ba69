"""pulse serve over HTTPS (serve.tls_cert_file + serve.tls_key_file): a client that trusts the
certificate gets the API (probes, an authenticated write, a query); a plain-HTTP request on the TLS
port is dropped in the handshake and the server goes on serving; every bad certificate set-up
(one file of the two, a missing file, a key of another certificate, a file that is not PEM) stops
`pulse serve` before it listens, with a message naming the problem."""
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from serve_util import start_serve


def make_cert(folder, name):
    """A self-signed certificate for 127.0.0.1 and its key (PEM files), made by the openssl CLI."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


def test_https_serves_the_api_and_drops_plain_http(pulse_bin, tmp_path):
    cert, key = make_cert(tmp_path, "serve")
    served = start_serve(pulse_bin, tmp_path, tmp_path / "lake", f"serve.tls_cert_file={cert}",
                         f"serve.tls_key_file={key}", ca_file=cert)
    try:
        assert served.url.startswith("https://127.0.0.1:"), served.url
        assert served.json("GET", "/livez")[0] == 200
        status, _, body = served.json("GET", "/readyz")
        assert status == 200, body
        rows = [{"name": "tls_demo", "ts": f"2024-01-0{d}", "value": float(d), "kind": "macro"} for d in range(1, 4)]
        status, _, body = served.json("POST", "/v1/signals", rows, token="write")
        assert status == 200, body
        assert body["accepted"] == 3, body
        status, _, body = served.json("GET", "/v1/series", token="read")
        assert status == 200, body
        assert "tls_demo" in str(body)

        # Plain HTTP on the TLS port: no HTTP answer (the handshake fails), and nothing breaks.
        port = int(served.url.rsplit(":", 1)[1])
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=10).read()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(10)
            try:
                reply = s.recv(4096)
            except ConnectionResetError:
                reply = b""
            assert not reply.startswith(b"HTTP/1.1 200"), reply
        assert served.json("GET", "/livez")[0] == 200
    finally:
        code, _, log = served.stop()
    assert code == 0, log


def serve_fails(pulse_bin, tmp_path, *sets):
    proc = subprocess.run([pulse_bin, "--lake", str(tmp_path / "lake"), "--set",
                           f"serve.tokens_file={tmp_path / 'tokens.json'}"] +
                          [a for s in sets for a in ("--set", s)] + ["serve", "--port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0, proc.stderr
    assert "listening on" not in proc.stderr, proc.stderr
    return proc.stderr


def test_bad_tls_set_ups_are_refused_before_listening(pulse_bin, tmp_path):
    cert, key = make_cert(tmp_path, "a")
    other_cert, other_key = make_cert(tmp_path, "b")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("this is not a certificate\n")

    err = serve_fails(pulse_bin, tmp_path, f"serve.tls_cert_file={cert}")
    assert "needs both serve.tls_cert_file and serve.tls_key_file" in err, err
    err = serve_fails(pulse_bin, tmp_path, f"serve.tls_key_file={key}")
    assert "needs both" in err, err
    err = serve_fails(pulse_bin, tmp_path, f"serve.tls_cert_file={tmp_path / 'absent.crt'}",
                      f"serve.tls_key_file={key}")
    assert "cannot read the TLS certificate file" in err and "absent.crt" in err, err
    err = serve_fails(pulse_bin, tmp_path, f"serve.tls_cert_file={cert}", f"serve.tls_key_file={tmp_path / 'no.key'}")
    assert "cannot read the TLS key file" in err, err
    err = serve_fails(pulse_bin, tmp_path, f"serve.tls_cert_file={cert}", f"serve.tls_key_file={other_key}")
    assert "could not be loaded" in err, err
    err = serve_fails(pulse_bin, tmp_path, f"serve.tls_cert_file={not_pem}", f"serve.tls_key_file={key}")
    assert "could not be loaded" in err, err
    assert other_cert.exists()
