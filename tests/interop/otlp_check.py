"""Checks an OTLP/JSON file with the OpenTelemetry protobuf definitions (opentelemetry-proto).

OTLP/JSON differs from protobuf's standard JSON mapping in one documented way: trace and span
ids are hex, not base64. They are converted, then the document is parsed strictly into an
ExportTraceServiceRequest (unknown fields are errors) and the ids' sizes are checked.
Usage: python3 otlp_check.py FILE.json   (prints "ok: N spans" or exits 1 with the reason)
"""
import base64
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def hex_to_b64(obj):
    if isinstance(obj, dict):
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in obj and isinstance(obj[key], str):
                obj[key] = base64.b64encode(bytes.fromhex(obj[key])).decode()
        for v in obj.values():
            hex_to_b64(v)
    elif isinstance(obj, list):
        for v in obj:
            hex_to_b64(v)


doc = json.load(open(sys.argv[1]))
hex_to_b64(doc)
req = ExportTraceServiceRequest()
json_format.ParseDict(doc, req, ignore_unknown_fields=False)
n = 0
for rs in req.resource_spans:
    for ss in rs.scope_spans:
        for span in ss.spans:
            n += 1
            assert len(span.trace_id) == 16, span
            assert len(span.span_id) == 8, span
            assert len(span.parent_span_id) in (0, 8), span
            assert span.end_time_unix_nano >= span.start_time_unix_nano, span
            for ev in span.events:
                assert ev.time_unix_nano > 0
assert n > 0, "no spans"
print(f"ok: {n} spans")
