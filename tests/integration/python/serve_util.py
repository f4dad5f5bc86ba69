"""Starting and talking to a `pulse serve` process for the service tests (test_serve_*.py)."""
import json
import os
import signal
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

from timing import scaled


class Served:
    """A running `pulse serve`: its base URL, process and tokens (and the TLS context that trusts its
    certificate, for https:// URLs)."""

    def __init__(self, proc, url, tokens, early_log, ssl_context=None):
        self.proc, self.url, self.tokens, self.ssl_context = proc, url, tokens, ssl_context
        # Drain stderr (the JSON log) so that the server never blocks on a full pipe.
        self.log = list(early_log)
        self._drain = threading.Thread(target=lambda: self.log.extend(iter(proc.stderr.readline, "")), daemon=True)
        self._drain.start()

    def request(self, method, path, body=None, token=None, headers=None, timeout=30):
        """(status, headers, body bytes) of one request; never raises on HTTP errors."""
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None and not (headers and "Content-Type" in headers):
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + self.tokens.get(token, token))
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, body=None, token=None, headers=None):
        status, hdrs, raw = self.request(method, path, body, token, headers)
        return status, hdrs, json.loads(raw) if raw else None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out = self.proc.stdout.read()
        self.proc.wait(timeout=timeout)
        self._drain.join(timeout=5)
        return self.proc.returncode, out, "".join(self.log)


def wait_job(served, job, timeout=120):
    """The job's status document once it is SUCCESS, FAILURE or REVOKED (or when the scaled timeout
    passes: the caller's assertions then show the state it was left in)."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        status, _, st = served.json("GET", f"/v1/jobs/{job}", token="read")
        assert status == 200, st
        if st["state"] in ("SUCCESS", "FAILURE", "REVOKED") or time.monotonic() > deadline:
            return st
        time.sleep(0.1)


def create_token(pulse_bin, tokens_file, scope, name):
    proc = subprocess.run([pulse_bin, "--set", f"serve.tokens_file={tokens_file}", "token", "create", "--scope", scope,
                           "--name", name], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert token.startswith("pulse_") and len(token) == 70, proc.stdout
    return token


def start_serve(pulse_bin, tmp_path, lake, *sets, env=None, scopes=("read", "write", "admin"), ca_file=None):
    """Starts `pulse serve --port 0` with a tokens file holding one token per scope (named after it).
    ca_file: the certificate an https:// server presents, trusted by Served.request."""
    tokens_file = tmp_path / "tokens.json"
    tokens = {s: create_token(pulse_bin, tokens_file, s, s) for s in scopes}
    full_env = dict(os.environ)
    full_env.update(env or {})
    args = [pulse_bin, "--lake", str(lake), "--set", f"serve.tokens_file={tokens_file}",
            "--set", f"run.out={tmp_path / 'report'}"]
    for s in sets:
        args += ["--set", s]
    proc = subprocess.Popen(args + ["serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=full_env)
    deadline = time.monotonic() + scaled(60)
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "pulse serve: listening on " in line:
            url = line.strip().split("listening on ")[1]
            context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
            return Served(proc, url, tokens, lines, context)
    proc.kill()
    raise AssertionError("pulse serve did not start:\n" + "".join(lines) + proc.stderr.read())
