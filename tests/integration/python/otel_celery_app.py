"""A stock Celery app instrumented with opentelemetry-instrumentation-celery, exporting its spans by
OTLP/HTTP (the otel venv: scripts/otel-venv) - the Python side of tests/integration/python/test_traces.py.

Environment: PULSE_TEST_REDIS_URL (broker and result backend), PULSE_TEST_OTLP_ENDPOINT (the
receiver's base URL). As a worker: `python -m celery -A otel_celery_app worker --pool solo -Q py`;
as a client: `python otel_celery_app.py send TRACEPARENT TASK QUEUE KWARGS_JSON` sends TASK within
a span that continues TRACEPARENT and prints the task id.
"""
import json
import os
import sys

from celery import Celery
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

REDIS_URL = os.environ["PULSE_TEST_REDIS_URL"]
ROLE = "python-celery-client" if __name__ == "__main__" else "python-celery-worker"

provider = TracerProvider(resource=Resource.create({"service.name": ROLE}))
# Synchronous export: each span is in the receiver when it ends (a test process, not production).
provider.add_span_processor(
    SimpleSpanProcessor(OTLPSpanExporter(endpoint=os.environ["PULSE_TEST_OTLP_ENDPOINT"] + "/v1/traces")))
trace.set_tracer_provider(provider)
CeleryInstrumentor().instrument(tracer_provider=provider)

app = Celery("pulse-otel-tests", broker=REDIS_URL, backend=REDIS_URL)


@app.task(name="tests.echo")
def echo(text):
    # Inside the instrumentation's run span: the span this worker continued from the message.
    ctx = trace.get_current_span().get_span_context()
    return {"text": text, "trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}


@app.task(name="pulse.simulate")
def pulse_simulate_stub(**_kwargs):
    """Run by Pulse workers only. Declared so the client's send_task finds it in Celery's registry:
    the instrumentation ends its publish span only for registered tasks (after_task_publish looks
    the sender name up and returns early when it is unknown, leaving the span open, unexported)."""
    raise NotImplementedError("pulse.simulate runs on a Pulse worker")


if __name__ == "__main__":
    _, command, traceparent, task, queue, kwargs = sys.argv
    assert command == "send"
    parent = TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    with trace.get_tracer("pulse-tests").start_as_current_span("python client", context=parent):
        result = app.send_task(task, kwargs=json.loads(kwargs), queue=queue)
    print(result.id, flush=True)
    provider.shutdown()
