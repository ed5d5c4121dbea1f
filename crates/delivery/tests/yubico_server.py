"""A stand-in Yubico validation server (protocol 2.0) on loopback for tests/yubico.rs.

Usage: yubico_server.py --id ID --key BASE64 [--mode MODE] [--track]
  MODE  ok          check the request, answer status=OK (the default)
        replayed    answer REPLAYED_OTP
        badsig      answer OK, signed with another key
        othernonce  answer OK, echoing another nonce
        otherotp    answer OK, echoing another OTP
        unsigned    answer OK without h
        garbage     answer an HTML page (HTTP 200)
        http500     answer HTTP 500
        hang        accept the connection and never answer
        STATUS      any protocol status, e.g. BAD_OTP, NO_SUCH_CLIENT, BACKEND_ERROR
  --track      answer REPLAYED_OTP for an OTP already accepted
  --yubikey PUBLIC_ID=AES_HEX   (repeatable; needs PyPI yubiotp) know this key as YubiCloud
               does: decrypt its OTPs (BAD_OTP when they do not decrypt or the key is unknown),
               answer REPLAYED_OTP for a counter not above the last accepted one, and send
               `timestamp`, `sessioncounter` and `sessionuse` when asked with timestamp=1

Checks each request as yubikey-val does: `id`, `otp` and `nonce` present, the nonce 16 to 40
letters and digits (else MISSING_PARAMETER), the id known (else NO_SUCH_CLIENT, signed with an
empty key), and `h`, when sent, the HMAC-SHA1 under the key of the other pairs, decoded and
sorted (else BAD_SIGNATURE). Answers are `key=value` lines, CRLF, signed the same way, with `t`
in the protocol's format.

Prints "READY <port>" once listening on 127.0.0.1, then one JSON line per request:
{"query", "pairs", "signed", "signature_ok", "status"}.
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

STATUSES = {
    "OK", "BAD_OTP", "REPLAYED_OTP", "BAD_SIGNATURE", "MISSING_PARAMETER", "NO_SUCH_CLIENT",
    "OPERATION_NOT_ALLOWED", "BACKEND_ERROR", "NOT_ENOUGH_ANSWERS", "REPLAYED_REQUEST",
}


def sign(pairs, key):
    text = "&".join(f"{k}={v}" for k, v in sorted(pairs.items()) if k != "h")
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest()).decode()


def protocol_time():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)) + "0%03d" % (int(now * 1000) % 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--track", action="store_true")
    parser.add_argument("--yubikey", action="append", default=[])
    args = parser.parse_args()
    key = base64.b64decode(args.key)
    seen = set()
    keys = dict(k.split("=", 1) for k in args.yubikey)
    last_counter = {}

    def decode(otp):
        """(use counter, session counter, timestamp) of a known key's OTP, or None."""
        import binascii
        from yubiotp.otp import decode_otp
        public_id = otp[:-32]
        if public_id not in keys:
            return None
        try:
            _, token = decode_otp(otp.encode(), binascii.unhexlify(keys[public_id]))
        except Exception:
            return None
        return token.session, token.counter, token.timestamp
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_GET(self):
            if args.mode == "hang":
                time.sleep(30)
                return
            if args.mode == "http500":
                self.reply(500, "oops")
                return
            if args.mode == "garbage":
                self.reply(200, "<html><body>Not a validation server</body></html>")
                return

            query = urlsplit(self.path).query
            pairs = dict(parse_qsl(query, keep_blank_values=True))
            record = {"query": query, "pairs": pairs, "signed": "h" in pairs,
                      "signature_ok": None}
            otp, nonce, client = pairs.get("otp", ""), pairs.get("nonce", ""), pairs.get("id", "")
            answer_key, extra = key, {}
            if not otp or not client.isdigit() or not re.fullmatch(r"[A-Za-z0-9]{16,40}", nonce):
                status, answer_key = "MISSING_PARAMETER", b""
            elif client != args.id:
                status, answer_key = "NO_SUCH_CLIENT", b""
            elif "h" in pairs and not hmac.compare_digest(pairs["h"], sign(pairs, key)):
                record["signature_ok"] = False
                status = "BAD_SIGNATURE"
            else:
                if "h" in pairs:
                    record["signature_ok"] = True
                extra = {"otp": otp, "nonce": nonce}
                status = "OK"
                if args.mode == "replayed":
                    status = "REPLAYED_OTP"
                elif args.mode in STATUSES:
                    status = args.mode
                    if status not in ("OK", "REPLAYED_OTP", "REPLAYED_REQUEST", "NOT_ENOUGH_ANSWERS"):
                        extra = {}
                elif keys:
                    fields = decode(otp)
                    if fields is None:
                        status, extra = "BAD_OTP", {}
                    else:
                        use, session, stamp = fields
                        with lock:
                            last = last_counter.get(otp[:-32])
                            if last is not None and (use, session) <= last:
                                status = "REPLAYED_OTP"
                            else:
                                last_counter[otp[:-32]] = (use, session)
                        if status == "OK" and pairs.get("timestamp") == "1":
                            extra.update({"timestamp": str(stamp), "sessioncounter": str(use),
                                          "sessionuse": str(session)})
                elif args.track:
                    with lock:
                        if otp in seen:
                            status = "REPLAYED_OTP"
                        seen.add(otp)
                if args.mode == "othernonce":
                    extra["nonce"] = "Z" * len(nonce)
                elif args.mode == "otherotp":
                    extra["otp"] = otp[:-1] + ("c" if otp[-1] != "c" else "b")
                elif args.mode == "badsig":
                    answer_key = b"another key entirely"
                if status == "OK":
                    extra["sl"] = "100"
            record["status"] = status
            print(json.dumps(record), flush=True)

            fields = {"t": protocol_time(), **extra, "status": status}
            lines = [] if args.mode == "unsigned" else [f"h={sign(fields, answer_key)}"]
            lines += [f"{k}={v}" for k, v in fields.items()]
            self.reply(200, "\r\n".join(lines) + "\r\n\r\n")

        def reply(self, code, body):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
