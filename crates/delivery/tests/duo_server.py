"""A stand-in Duo Security for the tests: HTTPS on loopback speaking Duo's two protocols.

- The OIDC Auth API of the Universal Prompt (Web SDK v4): POST /oauth/v1/health_check,
  GET /oauth/v1/authorize (checks the request JWT, then shows an Approve / Deny page: one plain
  form posting to /frame/prompt, buttons #approve and #deny; an invalid request is an HTTP 400
  page), POST /oauth/v1/token (checks the client assertion and the code, answers an id_token
  signed HS512 under the client secret). Approve redirects to
  redirect_uri?duo_code=…&state=… (`code` when the request's use_duo_code_attribute is false);
  Deny redirects to redirect_uri?error=access_denied&error_description=…&state=…, the OAuth
  error answer, with no code. A code is single use and lives five minutes.
- The Auth API v2: GET /auth/v2/ping, GET /auth/v2/check, POST /auth/v2/preauth,
  POST /auth/v2/auth (factor push, sync or async, and passcode), GET /auth/v2/auth_status
  (long-polling), every request signed as duo_client signs it by default (signature version 5:
  HMAC-SHA512 over the Date, method, host, path, parameters, a SHA-512 of the JSON body and a
  SHA-512 of the X-Duo-* headers).

Every JWT (HS512 only, signature compared in constant time, iss/sub/aud/exp checked, a client
assertion's jti used once) and every request signature is verified; anything else is refused
the way Duo refuses it (HTTP 400/401 with Duo's error shapes). Python's standard library only.

Usage: duo_server.py --cert PEM --key PEM [options]
  --client-id ID --client-secret SECRET   the Web SDK application (defaults below)
  --ikey IKEY --skey SKEY                 the Auth API application (defaults below)
  --api-host HOST                         the host name clients use (default: the Host header)
  --user NAME=BEHAVIOUR                   repeatable; BEHAVIOUR for pushes and preauth:
        approve  the push is approved (preauth: auth)
        deny     the push is denied (preauth: auth)
        ignore   the push is never answered until Duo's own timeout (preauth: auth)
        bypass   preauth and auth allow without a second factor
        locked   preauth and auth deny (locked out)
     users not listed are unknown to Duo: preauth says enroll, auth denies
  --passcode NAME=CODE                    repeatable; a valid passcode (each usable once)
  --push-delay SECONDS                    how long the user takes to answer a push (0.3)
  --push-timeout SECONDS                  when Duo gives up on an unanswered push (60)
  --long-poll SECONDS                     how long auth_status waits for a change (1)
  --misbehave KNOB                        repeatable; test knobs for the id_token:
        other-secret    signed with another secret
        wrong-nonce     another nonce
        no-nonce        no nonce claim
        other-username  another user's preferred_username
        expired         exp and iat an hour in the past
        future-iat      iat an hour in the future
        wrong-iss       another issuer
        wrong-aud       another audience
        alg-none        unsigned (alg "none")
        deny-result     auth_result says deny
      and for every endpoint:
        server-error    HTTP 500 for every request
        hang            read each request, then answer nothing for HANG_SECONDS (30 s, longer
                        than any attempt timeout of Twofold's, 5 s) and close the connection
  --config JSON                           the same settings as a JSON object (keys client_id,
                                          client_secret, ikey, skey, api_host, users {name:
                                          behaviour}, passcodes {name: [codes]}, push_delay,
                                          push_timeout, long_poll, misbehave [knobs])

While running, POST /_standin/config with such a JSON object (no authentication: loopback test
code only) replaces the settings it names, e.g. {"misbehave": ["wrong-nonce"]} (and {"misbehave":
[]} to behave again) or {"users": {"alice": "deny"}} (the whole user list).

Prints "READY <port>" once listening on 127.0.0.1 (a port the kernel chose), then one JSON line
per request: {"method", "path", "status", "error"} plus "username" and "factor" where they apply.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import html
import json
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULTS = {
    "client_id": "DIWEBSDKCLIENT000001",
    "client_secret": "webSdkClientSecret0000000000000000000001",
    "ikey": "DIAUTHAPIIKEY0000001",
    "skey": "authApiSecretKey000000000000000000000001",
    "api_host": None,
    "users": {},
    "passcodes": {},
    "push_delay": 0.3,
    "push_timeout": 60.0,
    "long_poll": 1.0,
    "misbehave": [],
}
BEHAVIOURS = ("approve", "deny", "ignore", "bypass", "locked")
KNOBS = (
    "other-secret",
    "wrong-nonce",
    "no-nonce",
    "other-username",
    "expired",
    "future-iat",
    "wrong-iss",
    "wrong-aud",
    "alg-none",
    "deny-result",
    "server-error",
    "hang",
)
# How long the `hang` knob keeps a request unanswered.
HANG_SECONDS = 30
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Duo refuses a client assertion or request JWT that lives longer than five minutes; a little
# more is allowed for clock skew.
MAX_JWT_LIFETIME = 300
CLOCK_SKEW = 60
# A request signature's Date may be this far from Duo's clock.
MAX_DATE_SKEW = 300
CODE_LIFETIME = 300
PROMPT_LIFETIME = 600

LOCK = threading.Lock()
CONFIG = dict(DEFAULTS)
PROMPTS = {}  # prompt id -> the checked authorization request
CODES = {}  # duo_code -> {client_id, redirect_uri, nonce, username, expires}
SEEN_JTI = set()
PUSHES = {}  # txid -> {username, behaviour, started}
USED_PASSCODES = set()


def record(entry):
    with LOCK:
        print(json.dumps(entry), flush=True)


# --- JWT (HS512), written here rather than taken from PyJWT so it checks the SDKs' own ---------


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if not isinstance(text, str) or any(c not in B64URL for c in text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Only the canonical spelling: no stray bits in the last character.
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def jwt_encode(claims, secret, alg="HS512"):
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    if alg == "none":
        return f"{header}.{payload}."
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha512).digest()
    return f"{header}.{payload}.{b64url(signature)}"


class Refusal(Exception):
    """A request Duo refuses: HTTP status, Duo's error code and message, and a detail."""

    def __init__(self, status, error, detail, code=40002):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.code = code


def jwt_verify(token, secret, what):
    """The claims of an HS512 JWT signed with `secret`, or a Refusal."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise Refusal(400, "invalid_request", f"the {what} is not a JWT")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError:
        raise Refusal(400, "invalid_request", f"the {what} is not a JWT") from None
    if not isinstance(header, dict) or header.get("alg") != "HS512":
        raise Refusal(400, "invalid_request", f"the {what} is not signed with HS512")
    expected = hmac.new(
        secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha512
    ).digest()
    if not hmac.compare_digest(signature, expected):
        raise Refusal(400, "invalid_client", f"the {what}'s signature is not valid")
    if not isinstance(claims, dict):
        raise Refusal(400, "invalid_request", f"the {what} holds no claims")
    exp = claims.get("exp")
    now = time.time()
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise Refusal(400, "invalid_request", f"the {what} has no exp")
    if exp <= now:
        raise Refusal(400, "invalid_request", f"the {what} has expired")
    if exp > now + MAX_JWT_LIFETIME + CLOCK_SKEW:
        raise Refusal(400, "invalid_request", f"the {what} lives longer than five minutes")
    iat = claims.get("iat")
    if iat is not None and (not isinstance(iat, (int, float)) or iat > now + CLOCK_SKEW):
        raise Refusal(400, "invalid_request", f"the {what} was issued in the future")
    return claims


def audience_is(claims, expected):
    aud = claims.get("aud")
    if isinstance(aud, list):
        return expected in aud
    return aud == expected


def check_client_assertion(params, endpoint_url):
    cfg = CONFIG
    if params.get("client_id") != cfg["client_id"]:
        raise Refusal(400, "invalid_client", "unknown client_id")
    assertion = params.get("client_assertion")
    if not assertion:
        raise Refusal(400, "invalid_client", "no client_assertion")
    claims = jwt_verify(assertion, cfg["client_secret"], "client assertion")
    if claims.get("iss") != cfg["client_id"] or claims.get("sub") != cfg["client_id"]:
        raise Refusal(400, "invalid_client", "the client assertion's iss or sub is not the client")
    if not audience_is(claims, endpoint_url):
        raise Refusal(400, "invalid_client", "the client assertion's aud is not this endpoint")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise Refusal(400, "invalid_client", "the client assertion has no jti")
    with LOCK:
        if jti in SEEN_JTI:
            raise Refusal(400, "invalid_client", "the client assertion was used before")
        SEEN_JTI.add(jti)


# --- Auth API request signatures ---------------------------------------------------------------


def quote(text):
    return urllib.parse.quote(text, "~")


def canon_params(params):
    """duo_client's canonical parameters: names and values RFC 3986-encoded, sorted."""
    args = []
    for key, values in sorted((quote(k), v) for k, v in params.items()):
        for value in sorted(quote(v) for v in values):
            args.append(f"{key}={value}")
    return "&".join(args)


def canon_x_duo_headers(headers):
    lowered = {}
    for name, value in headers.items():
        if name.lower().startswith("x-duo-"):
            lowered[name.lower()] = value
    canon = []
    for name in sorted(lowered):
        canon.extend([name, lowered[name]])
    return hashlib.sha512("\x00".join(canon).encode("utf-8")).hexdigest()


def auth_api_refusal(status, code, message, detail=None):
    body = {"stat": "FAIL", "code": code, "message": message}
    if detail:
        body["message_detail"] = detail
    return Refusal(status, body, message, code)


# --- The server --------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DuoStandIn/1"

    def log_message(self, *args):
        pass

    # Plumbing.

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.entry["status"] = status

    def api_host(self):
        return CONFIG["api_host"] or self.headers.get("Host", "")

    def form_and_query(self, body):
        """Parameters from the query string and a form body (duo_universal sends the token
        request's fields in the query string, the health check's in the body)."""
        params = {}
        query = urllib.parse.urlsplit(self.path).query
        for source in (query, body.decode("utf-8", "replace")):
            for key, value in urllib.parse.parse_qsl(source, keep_blank_values=True):
                params[key] = value
        return params

    def handle_any(self, method):
        self.entry = {"method": method, "path": urllib.parse.urlsplit(self.path).path}
        try:
            body = self.read_body()
            knobs_apply = not self.entry["path"].startswith("/_standin/")
            if "hang" in CONFIG["misbehave"] and knobs_apply:
                self.entry["error"] = "hang knob"
                time.sleep(HANG_SECONDS)
                self.close_connection = True
                return
            if "server-error" in CONFIG["misbehave"] and knobs_apply:
                self.entry["error"] = "server-error knob"
                self.send(500, {"stat": "FAIL", "code": 50000, "message": "Internal error"})
                return
            route = ROUTES.get((method, self.entry["path"]))
            if route is None:
                self.send(404, {"stat": "FAIL", "code": 40400, "message": "Resource not found"})
            else:
                route(self, body)
        except Refusal as refusal:
            self.entry["error"] = refusal.detail
            if isinstance(refusal.error, dict):
                self.send(refusal.status, refusal.error)
            elif self.entry["path"] == "/oauth/v1/health_check":
                self.send(
                    refusal.status,
                    {
                        "stat": "FAIL",
                        "code": refusal.code,
                        "timestamp": int(time.time()),
                        "message": refusal.error,
                        "message_detail": refusal.detail,
                    },
                )
            else:
                self.send(
                    refusal.status,
                    {"error": refusal.error, "error_description": refusal.detail},
                )
        finally:
            record(self.entry)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    # The OIDC Auth API (Universal Prompt).

    def health_check(self, body):
        params = self.form_and_query(body)
        check_client_assertion(params, f"https://{self.api_host()}/oauth/v1/health_check")
        self.send(200, {"stat": "OK", "response": {"timestamp": int(time.time())}})

    def authorize(self, _body):
        cfg = CONFIG
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        try:
            if query.get("response_type") != "code":
                raise Refusal(400, "unsupported_response_type", "response_type is not code")
            if query.get("client_id") != cfg["client_id"]:
                raise Refusal(400, "invalid_client", "unknown client_id")
            claims = jwt_verify(query.get("request"), cfg["client_secret"], "request JWT")
            expected = {
                "response_type": "code",
                "client_id": cfg["client_id"],
                "iss": cfg["client_id"],
            }
            for name, value in expected.items():
                if claims.get(name) != value:
                    raise Refusal(400, "invalid_request_object", f"the request's {name} is wrong")
            if "openid" not in str(claims.get("scope", "")).split():
                raise Refusal(400, "invalid_scope", "the request's scope lacks openid")
            if not audience_is(claims, f"https://{self.api_host()}"):
                raise Refusal(400, "invalid_request_object", "the request's aud is not Duo")
            redirect_uri = claims.get("redirect_uri")
            parsed = urllib.parse.urlsplit(redirect_uri if isinstance(redirect_uri, str) else "")
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise Refusal(400, "invalid_request_object", "the redirect_uri is not a URL")
            state = claims.get("state")
            if not isinstance(state, str) or not 16 <= len(state) <= 1024:
                raise Refusal(400, "invalid_request_object", "the state is missing or too short")
            username = claims.get("duo_uname")
            if not isinstance(username, str) or not username:
                raise Refusal(400, "invalid_request_object", "no duo_uname")
            # duo_universal sends the nonce beside the request JWT; take it from the JWT if a
            # client put it there.
            nonce = claims.get("nonce", query.get("nonce"))
            if nonce is not None and (not isinstance(nonce, str) or not 16 <= len(nonce) <= 1024):
                raise Refusal(400, "invalid_request_object", "the nonce is too short or too long")
        except Refusal as refusal:
            self.entry["error"] = refusal.detail
            page = (
                "<!doctype html><title>Duo Security: error</title>"
                f"<h1>Invalid request</h1><p id=error>{html.escape(refusal.error)}: "
                f"{html.escape(refusal.detail)}</p>"
            )
            self.send(400, page, "text/html; charset=utf-8")
            return
        prompt = secrets.token_urlsafe(24)
        with LOCK:
            PROMPTS[prompt] = {
                "client_id": cfg["client_id"],
                "redirect_uri": redirect_uri,
                "state": state,
                "nonce": nonce,
                "username": username,
                "code_name": "duo_code" if claims.get("use_duo_code_attribute") else "code",
                "expires": time.time() + PROMPT_LIFETIME,
            }
        self.entry["username"] = username
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Duo Security (stand-in)</title></head>
<body>
<h1>Duo Security</h1>
<p>Confirm the login of <b id="username">{html.escape(username)}</b>.</p>
<form method="post" action="/frame/prompt">
<input type="hidden" name="prompt" value="{prompt}">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>
</body></html>
"""
        self.send(200, page, "text/html; charset=utf-8")

    def prompt_decision(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        with LOCK:
            prompt = PROMPTS.pop(form.get("prompt", ""), None)
        if prompt is None or prompt["expires"] < time.time():
            self.entry["error"] = "unknown or expired prompt"
            self.send(400, "<!doctype html><p>This login request expired.", "text/html")
            return
        self.entry["username"] = prompt["username"]
        if form.get("decision") == "approve":
            code = secrets.token_urlsafe(24)
            with LOCK:
                CODES[code] = dict(prompt, expires=time.time() + CODE_LIFETIME)
            answer = {prompt["code_name"]: code, "state": prompt["state"]}
        else:
            answer = {
                "error": "access_denied",
                "error_description": "The user denied the login request.",
                "state": prompt["state"],
            }
        uri = prompt["redirect_uri"]
        location = uri + ("&" if "?" in uri else "?") + urllib.parse.urlencode(answer)
        self.send(302, "", "text/plain", headers=[("Location", location)])

    def token(self, body):
        cfg = CONFIG
        params = self.form_and_query(body)
        if params.get("grant_type") != "authorization_code":
            raise Refusal(400, "unsupported_grant_type", "grant_type is not authorization_code")
        if params.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise Refusal(400, "invalid_client", "client_assertion_type is not jwt-bearer")
        api_host = self.api_host()
        check_client_assertion(params, f"https://{api_host}/oauth/v1/token")
        with LOCK:
            grant = CODES.pop(params.get("code", ""), None)
        if grant is None or grant["expires"] < time.time():
            raise Refusal(400, "invalid_grant", "the code is unknown, used or expired")
        if grant["client_id"] != params.get("client_id"):
            raise Refusal(400, "invalid_grant", "the code belongs to another client")
        if grant["redirect_uri"] != params.get("redirect_uri"):
            raise Refusal(400, "invalid_grant", "the redirect_uri differs from the authorization")
        self.entry["username"] = grant["username"]
        knobs = set(cfg["misbehave"])
        now = int(time.time())
        username = grant["username"]
        claims = {
            "iss": f"https://{api_host}/oauth/v1/token",
            "aud": cfg["client_id"],
            "sub": username,
            "preferred_username": username,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "auth_result": {
                "result": "allow",
                "status": "allow",
                "status_msg": "Login Successful",
            },
            "auth_context": {
                "result": "allow",
                "reason": "user_approved",
                "factor": "duo_push",
                "user": {"name": username},
                "application": {"key": cfg["client_id"], "name": "Twofold"},
            },
        }
        if grant["nonce"] is not None:
            claims["nonce"] = grant["nonce"]
        if "wrong-nonce" in knobs:
            claims["nonce"] = "another-nonce-" + secrets.token_urlsafe(12)
        if "no-nonce" in knobs:
            claims.pop("nonce", None)
        if "other-username" in knobs:
            claims["preferred_username"] = claims["sub"] = "mallory"
        if "expired" in knobs:
            claims["iat"], claims["exp"] = now - 3900, now - 3600
        if "future-iat" in knobs:
            claims["iat"] = now + 3600
            claims["exp"] = now + 3900
        if "wrong-iss" in knobs:
            claims["iss"] = "https://api-other.duosecurity.com/oauth/v1/token"
        if "wrong-aud" in knobs:
            claims["aud"] = "DIOTHERCLIENT0000000"
        if "deny-result" in knobs:
            claims["auth_result"] = {
                "result": "deny",
                "status": "deny",
                "status_msg": "Login denied",
            }
        secret = cfg["client_secret"]
        if "other-secret" in knobs:
            secret = "anotherSecretThatIsNotTheClientSecret000"
        id_token = jwt_encode(claims, secret, "none" if "alg-none" in knobs else "HS512")
        self.send(
            200,
            {
                "id_token": id_token,
                "access_token": jwt_encode({"sub": username, "exp": now + 3600}, secret),
                "expires_in": 3600,
                "token_type": "Bearer",
            },
        )

    # The Auth API.

    def verify_signature(self, body):
        """The request's parameters once its signature checks out (signature version 5)."""
        cfg = CONFIG
        authorization = self.headers.get("Authorization", "")
        if not authorization.startswith("Basic "):
            raise auth_api_refusal(401, 40101, "Missing request credentials")
        try:
            decoded = base64.b64decode(authorization[6:], validate=True).decode("utf-8")
        except ValueError:
            raise auth_api_refusal(401, 40101, "Missing request credentials") from None
        ikey, _, signature = decoded.partition(":")
        if ikey != cfg["ikey"]:
            raise auth_api_refusal(401, 40102, "Invalid integration key in request credentials")
        date = self.headers.get("Date", "")
        try:
            when = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise auth_api_refusal(401, 40105, "Invalid or missing request date") from None
        if abs(when - time.time()) > MAX_DATE_SKEW:
            raise auth_api_refusal(401, 40105, "Request date is too far from Duo's clock")
        split = urllib.parse.urlsplit(self.path)
        if self.command == "GET":
            params = {}
            for key, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
                params.setdefault(key, []).append(value)
            signed_params = params
            flat = {k: v[-1] for k, v in params.items()}
        else:
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                raise auth_api_refusal(400, 40002, "Invalid request parameters", "Content-Type")
            try:
                flat = json.loads(body.decode("utf-8")) if body else {}
            except ValueError:
                raise auth_api_refusal(400, 40002, "Invalid request parameters", "body") from None
            if not isinstance(flat, dict):
                raise auth_api_refusal(400, 40002, "Invalid request parameters", "body")
            signed_params = {}
        host = self.headers.get("Host", "").lower()
        # The signed host is the host name; duo_client names a port apart from it.
        if host.rsplit(":", 1)[-1].isdigit() and not host.endswith("]"):
            host = host.rsplit(":", 1)[0]
        canonical = "\n".join(
            [
                date,
                self.command.upper(),
                host,
                split.path,
                canon_params(signed_params),
                hashlib.sha512(body).hexdigest(),
                canon_x_duo_headers(self.headers),
            ]
        )
        expected = hmac.new(
            cfg["skey"].encode("utf-8"), canonical.encode("utf-8"), hashlib.sha512
        ).hexdigest()
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise auth_api_refusal(401, 40103, "Invalid signature in request credentials")
        return flat

    def ping(self, _body):
        self.send(200, {"stat": "OK", "response": {"time": int(time.time())}})

    def check(self, body):
        self.verify_signature(body)
        self.send(200, {"stat": "OK", "response": {"time": int(time.time())}})

    def user_params(self, params):
        username = params.get("username")
        if not isinstance(username, str) or not username:
            raise auth_api_refusal(400, 40002, "Invalid request parameters", "username")
        self.entry["username"] = username
        return username, CONFIG["users"].get(username)

    def preauth(self, body):
        username, behaviour = self.user_params(self.verify_signature(body))
        if behaviour is None:
            response = {
                "result": "enroll",
                "status_msg": "Enroll an authentication device to proceed",
                "enroll_portal_url": f"https://{self.api_host()}/portal?code=stand-in",
            }
        elif behaviour == "bypass":
            response = {"result": "allow", "status_msg": "Allowing unknown user"}
        elif behaviour == "locked":
            response = {"result": "deny", "status_msg": "Your account is disabled"}
        else:
            response = {
                "result": "auth",
                "status_msg": "Account is active",
                "devices": [
                    {
                        "device": "DPSTANDIN00000000001",
                        "type": "phone",
                        "number": "XXX-XXX-0100",
                        "name": "stand-in phone",
                        "capabilities": ["auto", "push", "mobile_otp"],
                    }
                ],
            }
        self.send(200, {"stat": "OK", "response": response})

    def auth(self, body):
        params = self.verify_signature(body)
        username, behaviour = self.user_params(params)
        factor = params.get("factor")
        self.entry["factor"] = factor
        is_async = str(params.get("async", "0")) in ("1", "true", "True")
        if factor not in ("push", "passcode", "auto"):
            raise auth_api_refusal(400, 40002, "Invalid request parameters", "factor")
        if behaviour is None:
            self.finish_auth(is_async, username, "deny", "deny", "Enroll an authentication device first.")
            return
        if behaviour == "bypass":
            self.finish_auth(is_async, username, "allow", "bypass", "Allowing unknown user")
            return
        if behaviour == "locked":
            self.finish_auth(is_async, username, "deny", "locked_out", "Your account is disabled")
            return
        if factor == "passcode":
            passcode = params.get("passcode")
            if not isinstance(passcode, str) or not passcode:
                raise auth_api_refusal(400, 40002, "Invalid request parameters", "passcode")
            valid = CONFIG["passcodes"].get(username, [])
            with LOCK:
                ok = any(hmac.compare_digest(passcode, code) for code in valid) and (
                    (username, passcode) not in USED_PASSCODES
                )
                if ok:
                    USED_PASSCODES.add((username, passcode))
            if ok:
                self.finish_auth(is_async, username, "allow", "allow", "Success. Logging you in...")
            else:
                self.finish_auth(
                    is_async, username, "deny", "deny", "Incorrect passcode. Please try again."
                )
            return
        txid = str(uuid.uuid4())
        with LOCK:
            PUSHES[txid] = {"username": username, "behaviour": behaviour, "started": time.time()}
        if is_async:
            self.send(200, {"stat": "OK", "response": {"txid": txid}})
            return
        while True:
            state, wait = push_state(PUSHES[txid])
            if state["result"] != "waiting":
                self.send(200, {"stat": "OK", "response": state})
                return
            time.sleep(min(wait, 1.0))

    def finish_auth(self, is_async, username, result, status, status_msg):
        state = {"result": result, "status": status, "status_msg": status_msg}
        if is_async:
            txid = str(uuid.uuid4())
            with LOCK:
                PUSHES[txid] = {"username": username, "final": state, "started": time.time()}
            self.send(200, {"stat": "OK", "response": {"txid": txid}})
        else:
            self.send(200, {"stat": "OK", "response": state})

    def auth_status(self, body):
        params = self.verify_signature(body)
        with LOCK:
            push = PUSHES.get(params.get("txid", ""))
        if push is None:
            raise auth_api_refusal(400, 40002, "Invalid request parameters", "txid")
        self.entry["username"] = push["username"]
        deadline = time.time() + CONFIG["long_poll"]
        while True:
            state, wait = push_state(push)
            now = time.time()
            if state["result"] != "waiting" or now >= deadline:
                self.send(200, {"stat": "OK", "response": state})
                return
            time.sleep(max(0.01, min(wait, deadline - now)))

    def update_config(self, body):
        try:
            apply_config(json.loads(body.decode("utf-8")))
        except (ValueError, TypeError) as e:
            self.send(400, {"error": str(e)})
            return
        self.send(200, {"ok": True})


def push_state(push):
    """The push's state now, and how long until it may change."""
    if "final" in push:
        return push["final"], 0
    elapsed = time.time() - push["started"]
    behaviour = push["behaviour"]
    delay = CONFIG["push_delay"] if behaviour != "ignore" else CONFIG["push_timeout"]
    if elapsed < delay:
        waiting = {
            "result": "waiting",
            "status": "pushed",
            "status_msg": "Pushed a login request to your device...",
        }
        return waiting, delay - elapsed
    if behaviour == "approve":
        return {"result": "allow", "status": "allow", "status_msg": "Success. Logging you in..."}, 0
    if behaviour == "deny":
        return {"result": "deny", "status": "deny", "status_msg": "Login request denied."}, 0
    return {"result": "deny", "status": "timeout", "status_msg": "Login timed out."}, 0


ROUTES = {
    ("POST", "/oauth/v1/health_check"): Handler.health_check,
    ("GET", "/oauth/v1/authorize"): Handler.authorize,
    ("POST", "/frame/prompt"): Handler.prompt_decision,
    ("POST", "/oauth/v1/token"): Handler.token,
    ("GET", "/auth/v2/ping"): Handler.ping,
    ("GET", "/auth/v2/check"): Handler.check,
    ("POST", "/auth/v2/preauth"): Handler.preauth,
    ("POST", "/auth/v2/auth"): Handler.auth,
    ("GET", "/auth/v2/auth_status"): Handler.auth_status,
    ("POST", "/_standin/config"): Handler.update_config,
}


def apply_config(new):
    if not isinstance(new, dict):
        raise ValueError("the configuration is not a JSON object")
    unknown = set(new) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    for name, value in new.get("users", {}).items():
        if value not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {value!r} for {name}")
    for knob in new.get("misbehave", []):
        if knob not in KNOBS:
            raise ValueError(f"unknown knob {knob!r}")
    passcodes = new.get("passcodes")
    if passcodes is not None:
        new = dict(new, passcodes={k: [v] if isinstance(v, str) else list(v) for k, v in passcodes.items()})
    with LOCK:
        CONFIG.update(new)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Failed handshakes and dropped connections are provoked on purpose; no tracebacks.
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--config")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--ikey")
    parser.add_argument("--skey")
    parser.add_argument("--api-host")
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument("--passcode", action="append", default=[])
    parser.add_argument("--push-delay", type=float)
    parser.add_argument("--push-timeout", type=float)
    parser.add_argument("--long-poll", type=float)
    parser.add_argument("--misbehave", action="append", default=[])
    args = parser.parse_args()

    settings = json.loads(args.config) if args.config else {}
    for name in ("client_id", "client_secret", "ikey", "skey", "api_host", "push_delay",
                 "push_timeout", "long_poll"):
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    users = dict(settings.get("users", {}))
    for entry in args.user:
        name, _, behaviour = entry.partition("=")
        users[name] = behaviour
    passcodes = {k: [v] if isinstance(v, str) else list(v)
                 for k, v in settings.get("passcodes", {}).items()}
    for entry in args.passcode:
        name, _, code = entry.partition("=")
        passcodes.setdefault(name, []).append(code)
    settings["users"] = users
    settings["passcodes"] = passcodes
    settings["misbehave"] = list(settings.get("misbehave", [])) + args.misbehave
    try:
        apply_config(settings)
    except ValueError as e:
        sys.exit(f"duo_server.py: {e}")

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    server = Server(("127.0.0.1", 0), Handler)
    # The handshake happens in the handler's thread, so a client that never finishes it cannot
    # hold up the others.
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
