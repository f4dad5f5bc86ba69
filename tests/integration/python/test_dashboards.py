"""deploy/prometheus and deploy/grafana run the way a deployment runs them, against live Pulse roles.

No Grafana server can be installed here, so the dashboards are checked the way Grafana would use
them: a real Prometheus (Debian's 2.42 `prometheus`, config written here, scrape interval 1 s,
loopback ports, its own temporary storage) scrapes a `pulse worker` (test Redis), a `pulse beat`,
a stream consumer (`pulse ingest --stream`, when scripts/test started Kafka) and `pulse serve`
(when the binary has that command), some load runs through them (`pulse run --broker redis://`
puts ingest, forecast, world and trust on the worker; the beat publishes pulse.noop every second;
records go through Kafka), then every panel target's PromQL, template variables resolved to real
values as Grafana's label_values() would, goes through Prometheus's HTTP API: each must parse and
return at least one series. Panels of a role that is not running are skipped by name, with the
reason.

Alerts: Alertmanager (Debian's `prometheus-alertmanager`) starts before Prometheus, which runs
with --rules.alert.resend-delay=1s and a copy of rules/alerts.yml whose `for:` are 1 s; killing
the worker must bring PulseWorkerDown to Alertmanager's API (/api/v2/alerts).

Also: every role's /metrics passes `promtool check metrics`, and the provisioning files and
dashboards are well formed. Every wait has a deadline (timing.scaled)."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_pulse, free_port
from timing import scaled

REDIS_URL = os.environ.get("PULSE_TEST_REDIS_URL", "")
BROKERS = os.environ.get("PULSE_KAFKA_BROKERS", "")
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
DEPLOY = ROOT / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
DATASET = ROOT / "data" / "us-macro-quarterly.csv"

# The metrics only one role exports: a panel or variable naming one needs that role running.
ROLE_OF_METRIC = (("pulse_http_", "serve"), ("pulse_ready", "serve"), ("pulse_stream_", "stream"))


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Role:
    """A started process, its log file, and the host:port Prometheus scrapes."""

    def __init__(self, name, args, log, port=None, metrics_path="/metrics"):
        self.name, self.log, self.metrics_path = name, log, metrics_path
        self.proc = subprocess.Popen([str(a) for a in args], stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                     text=True)
        self.port = port

    def log_text(self):
        return Path(self.log).read_text(errors="replace")

    def wait_for_metrics_line(self, prefix):
        """Reads the port of `<prefix>: metrics on http://HOST:PORT/metrics` from the log."""
        def found():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}: {self.log_text()[-3000:]}")
            m = re.search(prefix + r": metrics on http://[0-9.]+:(\d+)/metrics", self.log_text())
            return m and int(m.group(1))
        self.port = wait_for(found, scaled(30), f"{self.name}'s metrics port")

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    @property
    def metrics_url(self):
        return f"http://{self.target}{self.metrics_path}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=scaled(30))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve_command(pulse_bin):
    """The `pulse serve` command line for this test, or None (with the reason) when there is none.
    Serve is built in parallel with this test: its flags are read from its --help."""
    top = subprocess.run([pulse_bin, "--help"], capture_output=True, text=True, timeout=60).stdout
    if not re.search(r"^\s+serve\s", top, re.M):
        return None, "this pulse binary has no `serve` command yet"
    help_text = subprocess.run([pulse_bin, "serve", "--help"], capture_output=True, text=True, timeout=60)
    text = help_text.stdout + help_text.stderr
    port = free_port()
    if "--listen" in text:
        args = ["--listen", f"127.0.0.1:{port}"]
    elif "--port" in text:
        args = ["--port", str(port)] + (["--host", "127.0.0.1"] if "--host" in text else [])
    else:
        pytest.fail("`pulse serve --help` names neither --listen nor --port: update serve_command() in "
                    "tests/integration/python/test_dashboards.py to start it on a loopback port\n" + text)
    # The cluster topology the dashboards describe: serve enqueues on Redis for the worker role.
    # (Embedded, serve would run a worker of its own and export idle worker series as pulse-serve.)
    args += ["--broker", REDIS_URL] if "--broker" in text else ["--set", f"jobs.broker={REDIS_URL}"]
    return (args, port), ""


class Stack:
    """The roles, Alertmanager and Prometheus of this module's tests."""

    def __init__(self, tmp, pulse_bin):
        self.tmp, self.pulse_bin = tmp, pulse_bin
        self.roles = {}
        self.skipped = {}  # role -> why it is not running
        self.servers = []
        self.lake = tmp / "lake"

    # -- Pulse roles
    def start_roles(self):
        p = self.pulse_bin
        worker = Role("worker", [p, "--lake", self.lake, "--set", f"ingest.inbox={DATASET.parent}", "worker",
                                 "--broker", REDIS_URL, "--concurrency", "2", "--metrics-port", "0"],
                      self.tmp / "worker.log")
        self.roles["worker"] = worker
        schedule = self.tmp / "beat.yaml"
        schedule.write_text("schedules:\n  - {name: tick, task: pulse.noop, every: 1, args: [1]}\n")
        beat = Role("beat", [p, "beat", "--broker", REDIS_URL, "--schedule", schedule, "--lease-ms", "500",
                             "--metrics-port", "0"], self.tmp / "beat.log")
        self.roles["beat"] = beat
        worker.wait_for_metrics_line("pulse worker")
        beat.wait_for_metrics_line("pulse beat")
        if BROKERS:
            self.kind = "dash" + uuid.uuid4().hex[:8]
            self.publish(0, 150)  # creates the topic before the consumer subscribes to it
            port = free_port()
            self.roles["stream"] = Role("stream", [
                p, "--lake", self.lake, "--set", "stream.batch_max_records=50", "--set", "stream.batch_max_ms=200",
                "--set", "log.level=warn", "ingest", "--stream", f"kafka://{BROKERS}/pulse.signals.{self.kind}",
                "--group", "dashboards", "--metrics-port", str(port)], self.tmp / "stream.log", port)
            wait_for(lambda: answers(self.roles["stream"].metrics_url), scaled(60), "the stream consumer's /metrics")
        else:
            self.skipped["stream"] = "PULSE_KAFKA_BROKERS is not set (scripts/test starts Kafka)"
        serve, why = serve_command(p)
        if serve:
            args, port = serve
            self.roles["serve"] = Role("serve", [p, "--lake", self.lake, "serve", *args], self.tmp / "serve.log", port)
            wait_for(lambda: answers(self.roles["serve"].metrics_url), scaled(60), "pulse serve's /metrics")
        else:
            self.skipped["serve"] = why

    # -- Alertmanager, then Prometheus
    def start_monitoring(self):
        am_port = free_port()
        am_dir = self.tmp / "alertmanager"
        am_dir.mkdir()
        (am_dir / "alertmanager.yml").write_text(yaml.safe_dump({
            "route": {"receiver": "test", "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "test"}]}))
        self.alertmanager = f"http://127.0.0.1:{am_port}"
        self.servers.append(subprocess.Popen([
            ALERTMANAGER, f"--config.file={am_dir / 'alertmanager.yml'}", f"--storage.path={am_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
            stdout=open(am_dir / "log", "w"), stderr=subprocess.STDOUT))
        wait_for(lambda: answers(self.alertmanager + "/-/ready"), scaled(30), "Alertmanager ready")

        prom_dir = self.tmp / "prometheus"
        prom_dir.mkdir()
        # The alerts as shipped but with `for: 1s`, so that a test can trip them in seconds.
        alerts = yaml.safe_load((DEPLOY / "prometheus" / "rules" / "alerts.yml").read_text())
        for group in alerts["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "1s"
        (prom_dir / "alerts-fast.yml").write_text(yaml.safe_dump(alerts))
        jobs = {"worker": "pulse-worker", "beat": "pulse-beat", "stream": "pulse-stream", "serve": "pulse-serve"}
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(DEPLOY / "prometheus" / "rules" / "recording.yml"), str(prom_dir / "alerts-fast.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [{"job_name": jobs[name], "metrics_path": role.metrics_path,
                                "static_configs": [{"targets": [role.target]}]}
                               for name, role in self.roles.items()]}
        (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        self.prometheus = f"http://127.0.0.1:{port}"
        self.servers.append(subprocess.Popen([
            PROMETHEUS, f"--config.file={prom_dir / 'prometheus.yml'}", f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}", "--rules.alert.resend-delay=1s"],
            stdout=open(prom_dir / "log", "w"), stderr=subprocess.STDOUT))
        wait_for(lambda: answers(self.prometheus + "/-/ready"), scaled(60), "Prometheus ready")

        def all_up():
            targets = http_json(self.prometheus + "/api/v1/targets")["data"]["activeTargets"]
            return len(targets) == len(self.roles) and all(t["health"] == "up" for t in targets)
        wait_for(all_up, scaled(30), "every role's target up in Prometheus")

    # -- load
    def generate_load(self):
        run_pulse(self.pulse_bin, "--lake", self.lake, "run", "--out", self.tmp / "out", "--broker", REDIS_URL)
        from celery import Celery
        app = Celery("pulse-dashboards-test", broker=REDIS_URL, backend=REDIS_URL)
        with pytest.raises(Exception):  # a failed task: the error panels have something to show
            app.send_task("pulse.simulate", kwargs={"runs": 0}).get(timeout=scaled(60))
        if "stream" in self.roles:
            self.publish(150, 300)
            def consumed():
                text = urllib.request.urlopen(self.roles["stream"].metrics_url, timeout=5).read().decode()
                return 'pulse_stream_records_total{outcome="accepted"} 300' in text
            wait_for(consumed, scaled(90), "the stream consumer to accept the 300 records")

    def publish(self, first, end):
        """Publishes records first..end-1 (5 series) to this test's topic with `pulse publish`."""
        path = self.tmp / f"stream-{first}.csv"
        lines = ["name,source,kind,ts,value"] + [f"s{i % 5},dash,{self.kind},{1_600_000_000 + i},{i}"
                                                 for i in range(first, end)]
        path.write_text("\n".join(lines) + "\n")
        run_pulse(self.pulse_bin, "publish", path, "--to", f"kafka://{BROKERS}")

    def query(self, expr):
        return http_json(self.prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))

    def stop(self):
        for role in self.roles.values():
            role.stop()
        for server in reversed(self.servers):
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, pulse_bin):
    if not REDIS_URL:
        pytest.skip("PULSE_TEST_REDIS_URL is not set (run through scripts/test)")
    for tool, package in ((PROMETHEUS, "prometheus"), (ALERTMANAGER, "prometheus-alertmanager")):
        if tool is None:
            pytest.skip(f"Debian package {package} is not installed (scripts/bootstrap installs it)")
    import redis
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    s = Stack(tmp_path_factory.mktemp("dashboards"), pulse_bin)
    try:
        s.start_roles()
        s.start_monitoring()
        s.generate_load()
        yield s
    finally:
        s.stop()
        client.flushdb()


# ------------------------------------------------------------------------- dashboards: structure

def load_dashboard(path):
    return json.loads(path.read_text())


def panels_of(board):
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # collapsed rows hold theirs


def test_provisioning_files_point_at_the_dashboards_and_prometheus():
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasources["apiVersion"] == 1
    [ds] = datasources["datasources"]
    assert ds["type"] == "prometheus" and ds["url"].startswith("http")
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/pulse.yml").read_text())
    [provider] = providers["providers"]
    assert provider["type"] == "file" and provider["options"]["path"]
    assert len(DASHBOARDS) == 5, DASHBOARDS


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_well_formed(path):
    board = load_dashboard(path)
    assert board["uid"] == path.stem and board["title"].startswith("Pulse / ")
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in panels_of(board)]
    assert len(ids) == len(set(ids)), f"panel ids repeat: {ids}"
    for panel in panels_of(board):
        g = panel["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, (panel["title"], g)
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip() and target["refId"], panel["title"]
            for name in re.findall(r"\$(\w+)", target["expr"]):
                assert name.startswith("__") or name in variables, f"{panel['title']}: ${name} is not a variable"


# ------------------------------------------------------------------------- dashboards: live queries

def roles_needed(text):
    return {role for prefix, role in ROLE_OF_METRIC if prefix in text}


def label_values(stack, definition):
    """Grafana's label_values(selector, label) or label_values(label): the values, sorted."""
    m = re.fullmatch(r"label_values\((?:(.+),\s*)?(\w+)\)", definition.strip())
    assert m, f"unsupported variable query {definition!r}"
    selector, label = m.group(1), m.group(2)
    if selector is None:
        return sorted(http_json(f"{stack.prometheus}/api/v1/label/{label}/values")["data"])
    found = http_json(stack.prometheus + "/api/v1/series?" + urllib.parse.urlencode({"match[]": selector}))
    return sorted({s[label] for s in found["data"] if label in s})


# Grafana's built-in intervals, as it would fill them for a 5-minute range at 1 s scrapes.
BUILTINS = {"$__rate_interval": "15s", "$__interval": "5s", "$__range": "5m"}


def substitute(text, values):
    for name, value in BUILTINS.items():
        text = text.replace(name, value)
    for name in sorted(values, key=len, reverse=True):
        text = text.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    return text


def resolve_variables(stack, board):
    """Each query variable's first real value (as Grafana selects by default; an `All` variable gets
    one real value too, which is stricter than `.*`), or the roles whose absence left it empty."""
    values, missing = {}, {}
    for v in board["templating"]["list"]:
        if v["type"] != "query":
            continue
        definition = v["definition"]
        needs = roles_needed(definition) | set().union(*(missing.get(n, set()) for n in values | missing
                                                          if "$" + n in definition))
        if needs - set(stack.roles):
            missing[v["name"]] = needs
            continue
        found = wait_for(lambda: label_values(stack, substitute(definition, values)), scaled(30),
                         f"a value for ${v['name']} ({definition})")
        # A multi-value variable goes into a regex matcher escaped, as Grafana writes it: regex
        # escapes, each backslash doubled inside PromQL's double-quoted string.
        values[v["name"]] = re.escape(found[0]).replace("\\", "\\\\") if v.get("includeAll") else found[0]
    return values, missing


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_query_returns_series(stack, path):
    board = load_dashboard(path)
    values, missing = resolve_variables(stack, board)
    checked, skipped, failures = 0, [], []
    for panel in panels_of(board):
        for target in panel.get("targets", []):
            expr = target["expr"]
            needs = roles_needed(expr) | set().union(*(missing[n] for n in missing if "$" + n in expr))
            absent = needs - set(stack.roles)
            if absent:
                skipped.append(f"{panel['title']!r}: {', '.join(f'{r} ({stack.skipped[r]})' for r in sorted(absent))}")
                continue
            query = substitute(expr, values)
            answer = {}

            def has_series():
                nonlocal answer
                try:
                    answer = stack.query(query)
                except urllib.error.HTTPError as e:  # a PromQL error: 400 with the parser's message
                    answer = json.loads(e.read().decode())
                    return True
                return answer.get("status") == "success" and answer["data"]["result"]
            try:
                wait_for(has_series, scaled(20), "series")
            except AssertionError:
                pass
            checked += 1
            if answer.get("status") != "success":
                failures.append(f"{panel['title']!r}: {query}\n    {answer.get('errorType')}: {answer.get('error')}")
            elif not answer["data"]["result"]:
                failures.append(f"{panel['title']!r}: no series for {query}")
    if skipped:
        print(f"{path.name}: skipped {len(skipped)} targets whose role is not running:\n  " + "\n  ".join(skipped))
    assert not failures, f"{path.name}: {len(failures)} of {checked} targets failed:\n" + "\n".join(failures)
    if checked == 0:
        pytest.skip(f"{path.name}: every panel needs a role that is not running: " + "; ".join(skipped))


def test_recording_rules_evaluate_on_live_series(stack):
    """The shipped recording rules, loaded by the live Prometheus, produce the series they name."""
    rules = yaml.safe_load((DEPLOY / "prometheus/rules/recording.yml").read_text())
    names = {r["record"] for g in rules["groups"] for r in g["rules"]}
    # Only 5xx responses make the error ratio's numerator, and this test provokes none.
    names.discard("job:pulse_http_errors:ratio_rate5m")
    for name in list(names):
        if roles_needed(next(r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("record") == name)) - \
                set(stack.roles):
            names.discard(name)
    missing = []
    for name in sorted(names):
        try:
            wait_for(lambda: stack.query(name)["data"]["result"], scaled(20), name)
        except AssertionError:
            missing.append(name)
    assert not missing, f"recording rules without series: {missing}"


def test_every_roles_metrics_pass_promtool(stack):
    if PROMTOOL is None:
        pytest.skip("promtool not installed (Debian package prometheus; scripts/bootstrap installs it)")
    families = {"worker": ["pulse_lake_commit_seconds", "pulse_ingest_rows_total", "pulse_forecast_series",
                           "pulse_trust_last_success_timestamp_seconds", "process_cpu_seconds_total"],
                "beat": ["pulse_beat_published_total", "pulse_beat_leader", "pulse_beat_last_published_timestamp_seconds",
                         "process_resident_memory_bytes"],
                "stream": ["pulse_stream_records_total", "pulse_lake_commit_seconds"],
                "serve": ["pulse_http_requests_total", "pulse_http_request_duration_seconds", "pulse_ready"]}
    for name, role in stack.roles.items():
        text = urllib.request.urlopen(role.metrics_url, timeout=5).read().decode()
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == 0 and not (check.stdout + check.stderr).strip(), \
            f"{name}: {check.stdout}{check.stderr}\n{text}"
        for family in families[name]:
            assert f"# TYPE {family} " in text, f"{name} lacks {family}:\n{text}"
    beat = urllib.request.urlopen(stack.roles["beat"].metrics_url, timeout=5).read().decode()
    assert "pulse_beat_leader 1" in beat, beat
    assert re.search(r'pulse_beat_published_total\{schedule="tick",task="pulse.noop"\} [1-9]', beat), beat


# ------------------------------------------------------------------------- alerts reach Alertmanager

def test_a_dead_worker_fires_pulse_worker_down_into_alertmanager(stack):
    """Runs last in this module: it kills the worker."""
    worker = stack.roles["worker"]

    def alert_of(alerts):
        return [a for a in alerts if a["labels"].get("alertname") == "PulseWorkerDown"
                and a["labels"].get("instance") == worker.target]
    assert not alert_of(http_json(stack.alertmanager + "/api/v2/alerts")), "fired while the worker was up"
    worker.proc.kill()
    worker.proc.wait()
    found = wait_for(lambda: alert_of(http_json(stack.alertmanager + "/api/v2/alerts")), scaled(60),
                     "PulseWorkerDown in Alertmanager")
    [alert] = found
    assert alert["labels"]["severity"] == "page" and alert["labels"]["job"] == "pulse-worker"
    assert alert["status"]["state"] == "active"
    assert alert["annotations"]["summary"] == f"pulse worker {worker.target} is not answering scrapes"
