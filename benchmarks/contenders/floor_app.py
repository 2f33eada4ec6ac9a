"""The floor: the least any Flask LINE webhook must do, and nothing more.

Check ``X-Line-Signature`` over the raw bytes, parse the JSON, answer 200. No
storage, no reply: no Flask webhook on this machine can acknowledge faster.
Served by gunicorn as ``benchmarks.contenders.floor_app:app``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from flask import Flask, Response, request

app = Flask(__name__)
_SECRET = os.environ["BENCH_LINE_SECRET"].encode()


@app.post("/webhooks/line")
def line_webhook() -> Response:
    body = request.get_data()
    expected = base64.b64encode(hmac.new(_SECRET, body, hashlib.sha256).digest())
    given = request.headers.get("X-Line-Signature", "").encode("ascii", "replace")
    if not hmac.compare_digest(expected, given):
        return Response("invalid signature", status=400)
    try:
        json.loads(body)
    except ValueError:
        return Response("malformed body", status=400)
    return Response("OK", mimetype="text/plain")
