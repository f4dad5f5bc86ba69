"""The Helm chart's pods, run for real without Kubernetes: `helm template` renders the chart with
ci/production-values.yaml, and each role's container is started as the kubelet would start it —
the rendered args (with $(VAR) expanded from the pod's environment), the rendered pulse.yaml and
beat schedule as files, the Secret-backed variables set to this test's servers — against the
redis-server (and Kafka) that scripts/test starts. Checked: the probes the chart declares answer on
the ports it declares (startup/liveness /livez and readiness /readyz for serve, /metrics for the
worker and beat), the worker runs a task from a queue of the rendered --queues, beat takes the
lease with the rendered schedule, stream ingestion lands published signals in the lake, and each
role exits 0 on SIGTERM within the chart's terminationGracePeriodSeconds.
helm is the pinned one of scripts/check-helm (scripts/go-tool: built once, cached)."""
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from conftest import ROOT, free_port, run_pulse, signal_rows
from timing import scaled

CHART = ROOT / "deploy/helm/pulse"
BROKERS = os.environ.get("PULSE_KAFKA_BROKERS")


def helm_bin():
    version = re.search(r"^HELM_VERSION=(\S+)", (ROOT / "scripts/check-helm").read_text(), re.M).group(1)
    out = subprocess.run([ROOT / "scripts/go-tool", f"helm.sh/helm/v3/cmd/helm@{version}"], capture_output=True,
                         text=True, timeout=1800)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def render(tmp_path, *sets):
    """{component: container}, {configmap name suffix: data} of the production values plus sets."""
    args = [helm_bin(), "template", "pulse", str(CHART), "-f", str(CHART / "ci/production-values.yaml"),
            "--kube-version", "1.37.0"]
    for s in sets:
        args += ["--set", s]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pods, maps = {}, {}
    for doc in yaml.safe_load_all(out.stdout):
        if not doc:
            continue
        if doc["kind"] == "Deployment":
            spec = doc["spec"]["template"]["spec"]
            pods[doc["metadata"]["labels"]["app.kubernetes.io/component"]] = dict(
                spec["containers"][0], terminationGracePeriodSeconds=spec.get("terminationGracePeriodSeconds", 30))
        elif doc["kind"] == "ConfigMap":
            maps[doc["metadata"]["name"]] = doc["data"]
    files = tmp_path / "etc-pulse"
    files.mkdir(exist_ok=True)
    (files / "pulse.yaml").write_text(maps["pulse-config"]["pulse.yaml"])
    (files / "schedule.yaml").write_text(maps["pulse-beat"]["schedule.yaml"])
    return pods, files


class Pod:
    """One role's container as a local process: rendered args, mounts as files, env from the test."""

    def __init__(self, pulse_bin, container, files, env, tmp_path):
        self.container = container
        expand = lambda a: re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a)  # the kubelet's $(VAR)
        mounts = {"/etc/pulse/pulse.yaml": str(files / "pulse.yaml"),
                  "/etc/pulse/beat/schedule.yaml": str(files / "schedule.yaml")}
        args = [mounts.get(a, expand(a)) for a in container["args"]]
        declared = {e["name"] for e in container.get("env", [])}
        assert "PULSE_JOBS_BROKER" in declared, declared  # the broker URL from secrets.redis
        full = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
        full.update(env, TMPDIR=str(tmp_path))
        self.log = tmp_path / f"{container['name']}.log"
        self.proc = subprocess.Popen([pulse_bin, *args], env=full, stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)

    def port(self, name):
        return next(p["containerPort"] for p in self.container["ports"] if p["name"] == name)

    def probe(self, kind):
        """GETs the probe's path on its port (as the kubelet does, on the pod's address: here loopback)."""
        p = self.container[kind]["httpGet"]
        port = self.port(p["port"]) if isinstance(p["port"], str) else p["port"]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{p['path']}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return None, ""

    def wait_probe(self, kind, budget):
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.container['name']} exited: {self.log.read_text()[-3000:]}"
            status, body = self.probe(kind)
            if status == 200:
                return body
            time.sleep(0.2)
        raise AssertionError(f"{kind} of {self.container['name']} not 200 within {budget} s: {self.log.read_text()[-3000:]}")

    def terminate(self):
        """SIGTERM, as the kubelet sends it; the exit must come within the grace period."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=scaled(self.container["terminationGracePeriodSeconds"]))
        assert rc == 0, f"{self.container['name']} exited {rc}: {self.log.read_text()[-3000:]}"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def probe_budget(container, kind):
    p = container[kind]
    return scaled(p["periodSeconds"] * p["failureThreshold"])


@pytest.fixture
def cluster_env(redis_db, tmp_path, lake):
    url = os.environ["PULSE_TEST_REDIS_URL"]
    # secrets.redis -> PULSE_JOBS_BROKER in every pod; the lake and the tokens file stand for the
    # S3 bucket and the mounted Secret (environment overrides the file, as in the pod).
    return {"PULSE_JOBS_BROKER": url, "PULSE_LAKE_URL": str(lake),
            "PULSE_SERVE_TOKENS_FILE": str(tmp_path / "tokens.json")}


def test_serve_worker_and_beat_run_as_rendered(pulse_bin, cluster_env, tmp_path):
    ports = {"serve": free_port(), "worker": free_port(), "beat": free_port()}
    pods, files = render(tmp_path, f"serve.port={ports['serve']}", f"worker.metricsPort={ports['worker']}",
                         f"beat.metricsPort={ports['beat']}")
    run_pulse(pulse_bin, "--set", f"serve.tokens_file={cluster_env['PULSE_SERVE_TOKENS_FILE']}", "token", "create",
              "--scope", "read", "--name", "helm-test")
    started = []
    try:
        serve = Pod(pulse_bin, pods["serve"], files, cluster_env, tmp_path)
        started.append(serve)
        worker = Pod(pulse_bin, pods["worker"], files, cluster_env, tmp_path)
        started.append(worker)
        beat = Pod(pulse_bin, pods["beat"], files, cluster_env, tmp_path)
        started.append(beat)

        serve.wait_probe("startupProbe", probe_budget(pods["serve"], "startupProbe"))
        assert serve.probe("livenessProbe")[0] == 200
        serve.wait_probe("readinessProbe", probe_budget(pods["serve"], "readinessProbe"))
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{ports['serve']}/metrics", timeout=5).read().decode()
        assert re.search(r"^pulse_ready 1$", metrics, re.M), metrics

        assert "pulse_worker_tasks_total" in worker.wait_probe("livenessProbe", scaled(30))
        queues = pods["worker"]["args"][pods["worker"]["args"].index("--queues") + 1].split(",")
        assert queues == ["celery", "pulse.simulate"]
        sent = run_pulse(pulse_bin, "task", "send", "pulse.noop", "--queue", queues[-1], "--broker",
                         cluster_env["PULSE_JOBS_BROKER"], "--wait", str(scaled(30)))
        assert sent.returncode == 0, sent.stderr

        deadline = time.monotonic() + scaled(20)
        while not re.search(r"^pulse_beat_leader 1$", beat.wait_probe("livenessProbe", scaled(10)), re.M):
            assert time.monotonic() < deadline, f"beat never took the lease: {beat.log.read_text()[-2000:]}"
            time.sleep(0.3)
        metrics = beat.wait_probe("livenessProbe", scaled(10))
        assert 'pulse_beat_schedule_interval_seconds{schedule="nightly-forecast"} 86400' in metrics, metrics

        for pod in (serve, worker, beat):
            pod.terminate()
    finally:
        for pod in started:
            pod.kill()


@pytest.mark.skipif(not BROKERS, reason="PULSE_KAFKA_BROKERS is not set (run through scripts/test)")
def test_stream_ingest_runs_as_rendered(pulse_bin, cluster_env, tmp_path, lake):
    kind = "helm" + uuid.uuid4().hex[:8]
    topic = f"pulse.signals.{kind}"
    pods, files = render(tmp_path, f"ingest.kafka.bootstrapServers={BROKERS}", f"ingest.kafka.topics={topic}",
                         f"ingest.kafka.group=helm-{kind}")
    csv = tmp_path / "signals.csv"
    csv.write_text("name,source,kind,ts,value\n" + "".join(f"s{i % 3},helm,{kind},{1_700_000_000 + i},{i}\n"
                                                           for i in range(50)))
    out = run_pulse(pulse_bin, "publish", csv, "--to", f"kafka://{BROKERS}").stdout
    assert "published 50," in out, out
    pod = Pod(pulse_bin, pods["ingest"], files, cluster_env, tmp_path)
    try:
        deadline = time.monotonic() + scaled(60)
        while len(signal_rows(lake)) < 50:
            assert pod.proc.poll() is None, pod.log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"rows never landed: {pod.log.read_text()[-3000:]}"
            time.sleep(0.3)
        assert len(signal_rows(lake)) == 50
        # The liveness probe the chart declares (--metrics-host 0.0.0.0 --metrics-port ingest.metricsPort).
        assert "pulse_stream_" in pod.wait_probe("livenessProbe", scaled(10))
        pod.terminate()
    finally:
        pod.kill()
