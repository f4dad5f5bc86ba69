"""A small OTLP/HTTP trace receiver for the trace tests: decodes each POST /v1/traces with the
opentelemetry-proto package (ExportTraceServiceRequest; protobuf, or OTLP's JSON mapping) and keeps
the spans in memory; GET /spans answers them as JSON for the test to query.

Run with the otel venv's python (scripts/otel-venv):  python otlp_receiver.py [PORT]
Prints "port=<n>" once listening (PORT 0 or none: any free port). A body that does not decode is
answered 400 (and counted in GET /spans' "rejected"), as a collector would.
"""

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

LOCK = threading.Lock()
SPANS = []
STATS = {"requests": 0, "rejected": 0, "content_types": []}


def any_value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def from_json(body):
    """OTLP/JSON -> the protobuf message: ids are hex there (base64 in protobuf's own JSON)."""
    doc = json.loads(body)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for span in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
                for link in span.get("links", []):
                    for key in ("traceId", "spanId"):
                        link[key] = base64.b64encode(bytes.fromhex(link[key])).decode()
    return json_format.ParseDict(doc, ExportTraceServiceRequest())


def flatten(request):
    out = []
    for rs in request.resource_spans:
        resource = {kv.key: any_value(kv.value) for kv in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(
                    {
                        "service": resource.get("service.name"),
                        "scope": ss.scope.name,
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "name": s.name,
                        "kind": s.kind,
                        "start": s.start_time_unix_nano,
                        "end": s.end_time_unix_nano,
                        "attributes": {kv.key: any_value(kv.value) for kv in s.attributes},
                        "status": {"code": s.status.code, "message": s.status.message},
                        "links": [{"trace_id": l.trace_id.hex(), "span_id": l.span_id.hex()} for l in s.links],
                    }
                )
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ctype = self.headers.get("Content-Type", "")
        with LOCK:
            STATS["requests"] += 1
            STATS["content_types"].append(ctype)
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        try:
            if ctype.startswith("application/json"):
                request = from_json(body)
            else:
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
            spans = flatten(request)
        except Exception as e:  # noqa: BLE001 - any decode failure is the sender's fault
            with LOCK:
                STATS["rejected"] += 1
            self.send_error(400, str(e)[:200])
            return
        with LOCK:
            SPANS.extend(spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):
        if self.path != "/spans":
            self.send_error(404)
            return
        with LOCK:
            body = json.dumps({"spans": SPANS, **STATS}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"port={server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
