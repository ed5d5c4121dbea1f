"""An HTTP server on loopback that stands in for the SMS providers in tests/delivery.rs and checks
each request as the real service would.

Usage: http_sink.py CONFIG_JSON
  CONFIG_JSON  {"webhook_secret", "twilio_sid", "twilio_token", "sns_access_key", "sns_secret",
                "sns_region"}

The first path segment names the check (webhook, twilio, sns), the second the answers to give, in
turn, to requests on that path (the last one repeats): an HTTP status, or "hang" (answer nothing
for 8 seconds). For example /sns/500,200/ answers 500, then 200.

A request that fails its check is answered 403 (whatever the planned status). Prints
"READY <port>" once listening on 127.0.0.1, then one JSON line per request:
{"kind", "path", "problems": [...], "fields": {...}, "status"}.

SNS signatures are recomputed with botocore's SigV4 signer (an independent implementation) from
the headers the request says it signed, at the time in its X-Amz-Date, and must match the
Authorization header exactly.
"""

import base64
import datetime
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CONFIG = json.loads(sys.argv[1])
COUNTS = {}
LOCK = threading.Lock()


def form_fields(body, problems):
    try:
        parsed = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True
        )
    except (UnicodeDecodeError, ValueError) as e:
        problems.append(f"body is not a form: {e}")
        return {}
    fields = {}
    for name, values in parsed.items():
        if len(values) != 1:
            problems.append(f"field {name} given {len(values)} times")
        fields[name] = values[0]
    return fields


def check_webhook(handler, body, problems):
    if handler.headers.get("Content-Type") != "application/json":
        problems.append(f"content type {handler.headers.get('Content-Type')!r}")
    expected = "sha256=" + hmac.new(
        CONFIG["webhook_secret"].encode(), body, hashlib.sha256
    ).hexdigest()
    got = handler.headers.get("X-Twofold-Signature", "")
    if not hmac.compare_digest(expected, got):
        problems.append(f"bad signature {got!r}")
    try:
        fields = json.loads(body)
    except ValueError as e:
        problems.append(f"body is not JSON: {e}")
        return {}
    if not isinstance(fields, dict) or sorted(fields) != ["message", "to"]:
        problems.append(f"JSON keys {sorted(fields) if isinstance(fields, dict) else fields}")
    return fields


def check_twilio(handler, body, problems):
    sid, token = CONFIG["twilio_sid"], CONFIG["twilio_token"]
    if not handler.path.endswith(f"/2010-04-01/Accounts/{sid}/Messages.json"):
        problems.append(f"path {handler.path}")
    expected = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
    if handler.headers.get("Authorization") != expected:
        problems.append("bad basic auth")
    if not handler.headers.get("Content-Type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        problems.append(f"content type {handler.headers.get('Content-Type')!r}")
    fields = form_fields(body, problems)
    if sorted(fields) != ["Body", "From", "To"]:
        problems.append(f"form fields {sorted(fields)}")
    return fields


def check_sns(handler, body, problems):
    if not handler.headers.get("Content-Type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        problems.append(f"content type {handler.headers.get('Content-Type')!r}")
    fields = form_fields(body, problems)
    if fields.get("Action") != "Publish" or fields.get("Version") != "2010-03-31":
        problems.append(f"action/version {fields.get('Action')}/{fields.get('Version')}")
    if sorted(fields) != ["Action", "Message", "PhoneNumber", "Version"]:
        problems.append(f"form fields {sorted(fields)}")

    authorization = handler.headers.get("Authorization", "")
    amz_date = handler.headers.get("X-Amz-Date", "")
    try:
        signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc
        )
    except (IndexError, ValueError):
        problems.append(f"malformed Authorization or X-Amz-Date: {authorization!r} {amz_date!r}")
        return fields
    # AWS refuses a request signed more than 15 minutes away from its clock.
    if abs(time.time() - when.timestamp()) > 15 * 60:
        problems.append(f"X-Amz-Date {amz_date} is not now")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            problems.append(f"{required} not signed")

    # botocore signs every header it is given (and sets X-Amz-Date itself), so give it the
    # headers the request claims to have signed, with the values the request carried.
    headers = {
        name: handler.headers.get(name, "")
        for name in signed
        if name not in ("x-amz-date",)
    }
    url = f"http://{handler.headers['Host']}{handler.path}"
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    signer = SigV4Auth(
        Credentials(CONFIG["sns_access_key"], CONFIG["sns_secret"]),
        "sns",
        CONFIG["sns_region"],
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        signer.add_auth(request)
    if request.headers["Authorization"] != authorization:
        problems.append(
            f"SigV4 mismatch: got {authorization!r}, botocore {request.headers['Authorization']!r}"
        )
    fields["_botocore_authorization"] = request.headers["Authorization"]
    return fields


CHECKS = {"webhook": check_webhook, "twilio": check_twilio, "sns": check_sns}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        segments = self.path.split("/")
        kind = segments[1] if len(segments) > 1 else ""
        plan = (segments[2] if len(segments) > 2 else "200").split(",")
        key = "/".join(segments[:3])
        with LOCK:
            n = COUNTS.get(key, 0)
            COUNTS[key] = n + 1
        answer = plan[min(n, len(plan) - 1)]

        problems = []
        check = CHECKS.get(kind)
        fields = check(self, body, problems) if check else {}
        if check is None:
            problems.append(f"unknown kind {kind!r}")
        status = 403 if problems else (0 if answer == "hang" else int(answer))
        print(
            json.dumps(
                {
                    "kind": kind,
                    "path": self.path,
                    "problems": problems,
                    "fields": fields,
                    "status": status,
                }
            ),
            flush=True,
        )
        if status == 0:
            time.sleep(8)
            return
        if kind == "sns" and status == 200:
            reply = (
                b'<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
                b"<PublishResult><MessageId>1</MessageId></PublishResult>"
                b"</PublishResponse>"
            )
            content_type = "text/xml"
        else:
            reply = json.dumps({"status": status, "problems": problems}).encode()
            content_type = "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
