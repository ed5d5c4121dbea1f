"""Proves the stand-in Duo (duo_server.py) faithful with Duo's own client libraries: PyPI
duo-universal (the Universal Prompt, Web SDK v4) and duo-client (the Auth API, class `Auth`),
unmodified, against the running stand-in. Also checks that the stand-in refuses what Duo
refuses (a tampered signature, a wrong secret, an expired JWT or request date) and that its test
knobs make id_tokens the official SDK itself rejects.

Usage: duo_sdk_check.py PORT CA_PEM CLIENT_ID CLIENT_SECRET IKEY SKEY
The stand-in must know the users alice=approve, bob=deny, carol=ignore, dave=bypass,
erin=locked and the passcode alice=123456.

Prints one line per check ("ok: …") and exits 0, or stops at the first failure with status 1.
"""

import email.utils
import html.parser
import json
import sys
import time
import urllib.parse
import warnings

import duo_client
import duo_client.client
import duo_universal
import duo_universal.client
import jwt
import requests

PORT, CA, CLIENT_ID, CLIENT_SECRET, IKEY, SKEY = sys.argv[1:7]
PORT = int(PORT)
HOST = f"127.0.0.1:{PORT}"
BASE = f"https://{HOST}"
REDIRECT = "https://app.example.org/login/duo/callback"
# duo_client checks the certificate's name itself and knows no IP addresses: it speaks to
# "localhost" (the test certificate names both).
AUTH_HOST = "localhost"
# PyJWT finds 40-byte HS512 keys short; Duo's client secrets are 40 characters.
warnings.simplefilter("ignore")


def ok(what):
    print(f"ok: {what}", flush=True)


def fail(what):
    print(f"FAILED: {what}", flush=True)
    sys.exit(1)


def expect(condition, what):
    if not condition:
        fail(what)
    ok(what)


def raises(exception, call, what):
    try:
        result = call()
    except exception as e:
        ok(f"{what} (refused: {str(e)[:120]})")
        return e
    fail(f"{what}: not refused, got {result!r}")


def knobs(*names):
    response = requests.post(f"{BASE}/_standin/config", json={"misbehave": list(names)}, verify=CA)
    response.raise_for_status()


class Forms(html.parser.HTMLParser):
    """The hidden fields and buttons of the prompt page."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.buttons = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action")
        elif tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "button":
            self.buttons[attrs.get("value")] = attrs.get("name")


def prompt(url, decision):
    """Opens the Universal Prompt at `url` as a browser would, presses `decision`, and returns
    the query of the redirect back to the application."""
    page = requests.get(url, verify=CA)
    if page.status_code != 200:
        fail(f"the prompt page answered {page.status_code}: {page.text[:200]}")
    forms = Forms()
    forms.feed(page.text)
    if decision not in forms.buttons:
        fail(f"the prompt page has no {decision} button")
    data = dict(forms.fields, **{forms.buttons[decision]: decision})
    answer = requests.post(
        urllib.parse.urljoin(url, forms.action), data=data, verify=CA, allow_redirects=False
    )
    if answer.status_code != 302:
        fail(f"the prompt answered {answer.status_code}, not a redirect")
    location = answer.headers["Location"]
    if not location.startswith(REDIRECT + "?"):
        fail(f"the prompt redirected elsewhere: {location}")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def universal_prompt():
    client = duo_universal.Client(CLIENT_ID, CLIENT_SECRET, HOST, REDIRECT, duo_certs=CA)

    result = client.health_check()
    expect(result["stat"] == "OK" and "timestamp" in result["response"],
           "duo_universal health_check")

    # A whole login: the SDK's auth URL, Approve, the SDK's code exchange.
    state, nonce = client.generate_state(), client.generate_state()
    url = client.create_auth_url("alice", state, nonce)
    back = prompt(url, "approve")
    expect(back.get("state") == state and "duo_code" in back,
           "the stand-in accepts the SDK's auth URL; Approve redirects with duo_code and state")
    token = client.exchange_authorization_code_for_2fa_result(back["duo_code"], "alice", nonce)
    expect(token["preferred_username"] == "alice" and token["auth_result"]["result"] == "allow"
           and token["nonce"] == nonce,
           "duo_universal exchanges the code and verifies the id_token (allow)")
    raises(duo_universal.DuoException,
           lambda: client.exchange_authorization_code_for_2fa_result(back["duo_code"], "alice", nonce),
           "a code is used once")

    # Without a nonce, and with the older `code` attribute.
    legacy = duo_universal.Client(CLIENT_ID, CLIENT_SECRET, HOST, REDIRECT, duo_certs=CA,
                                  use_duo_code_attribute=False)
    state = legacy.generate_state()
    back = prompt(legacy.create_auth_url("alice", state), "approve")
    expect("code" in back and "duo_code" not in back, "use_duo_code_attribute=False gets `code`")
    legacy.exchange_authorization_code_for_2fa_result(back["code"], "alice")
    ok("duo_universal exchanges a code without a nonce")

    # Deny: an OAuth error redirect, no code.
    state = client.generate_state()
    back = prompt(client.create_auth_url("alice", state, client.generate_state()), "deny")
    expect(back.get("error") == "access_denied" and back.get("state") == state
           and "duo_code" not in back, "Deny redirects with error=access_denied and the state")

    # A wrong client secret: refused at the health check, the prompt and the token endpoint.
    wrong = duo_universal.Client(CLIENT_ID, "x" * 40, HOST, REDIRECT, duo_certs=CA)
    raises(duo_universal.DuoException, wrong.health_check, "health_check with a wrong secret")
    page = requests.get(wrong.create_auth_url("alice", wrong.generate_state()), verify=CA)
    expect(page.status_code == 400, "an auth URL signed with a wrong secret is refused")
    state, nonce = client.generate_state(), client.generate_state()
    back = prompt(client.create_auth_url("alice", state, nonce), "approve")
    raises(duo_universal.DuoException,
           lambda: wrong.exchange_authorization_code_for_2fa_result(back["duo_code"], "alice", nonce),
           "a token request with a wrong secret")

    # A tampered signature.
    url = client.create_auth_url("alice", client.generate_state())
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    head, body, signature = query["request"].split(".")
    tampered_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    for name, request_jwt in (
        ("signature", f"{head}.{body}.{tampered_signature}"),
        ("claims", f"{head}.{body[:-2]}{'AA' if body[-2:] != 'AA' else 'BB'}.{signature}"),
    ):
        query["request"] = request_jwt
        page = requests.get(f"{BASE}/oauth/v1/authorize?{urllib.parse.urlencode(query)}", verify=CA)
        expect(page.status_code == 400, f"an auth URL with a tampered {name} is refused")
    assertion = jwt.encode({"iss": CLIENT_ID, "sub": CLIENT_ID, "jti": "x" * 36,
                            "aud": f"{BASE}/oauth/v1/health_check", "exp": time.time() + 300},
                           CLIENT_SECRET, algorithm="HS512")
    head, body, signature = assertion.split(".")
    assertion = f"{head}.{body}.{('A' if signature[0] != 'A' else 'B') + signature[1:]}"
    answer = requests.post(f"{BASE}/oauth/v1/health_check",
                           data={"client_id": CLIENT_ID, "client_assertion": assertion}, verify=CA)
    expect(answer.status_code == 400 and answer.json()["stat"] == "FAIL",
           "a health check with a tampered client assertion is refused")
    # Another algorithm than HS512 (none) is refused.
    unsigned = jwt.encode({"iss": CLIENT_ID, "sub": CLIENT_ID, "jti": "y" * 36,
                           "aud": f"{BASE}/oauth/v1/health_check", "exp": time.time() + 300},
                          None, algorithm="none")
    answer = requests.post(f"{BASE}/oauth/v1/health_check",
                           data={"client_id": CLIENT_ID, "client_assertion": unsigned}, verify=CA)
    expect(answer.status_code == 400, "an unsigned (alg none) client assertion is refused")

    # Expired JWTs: the SDK itself, with its clock an hour behind.
    real_time = duo_universal.client.time

    class HourAgo:
        @staticmethod
        def time():
            return real_time.time() - 3600

    duo_universal.client.time = HourAgo
    try:
        raises(duo_universal.DuoException, client.health_check,
               "a health check with an expired client assertion")
        expired_url = client.create_auth_url("alice", client.generate_state())
    finally:
        duo_universal.client.time = real_time
    page = requests.get(expired_url, verify=CA)
    expect(page.status_code == 400, "an auth URL with an expired request JWT is refused")
    state, nonce = client.generate_state(), client.generate_state()
    back = prompt(client.create_auth_url("alice", state, nonce), "approve")
    duo_universal.client.time = HourAgo
    try:
        raises(duo_universal.DuoException,
               lambda: client.exchange_authorization_code_for_2fa_result(back["duo_code"], "alice", nonce),
               "a token request with an expired client assertion")
    finally:
        duo_universal.client.time = real_time

    # The stand-in's test knobs make id_tokens the SDK rejects.
    for knob in ("other-secret", "wrong-nonce", "other-username", "expired", "wrong-iss",
                 "wrong-aud", "alg-none", "future-iat"):
        knobs(knob)
        try:
            state, nonce = client.generate_state(), client.generate_state()
            back = prompt(client.create_auth_url("alice", state, nonce), "approve")
            raises(duo_universal.DuoException,
                   lambda: client.exchange_authorization_code_for_2fa_result(
                       back["duo_code"], "alice", nonce),
                   f"knob {knob}: duo_universal rejects the id_token")
        finally:
            knobs()


def auth_api():
    auth = duo_client.Auth(IKEY, SKEY, AUTH_HOST, port=PORT, ca_certs=CA)
    expect(duo_client.client.Client.sig_version == 5 and auth.sig_version == 5,
           "duo_client's Auth signs with signature version 5 by default")

    expect("time" in auth.check(), "duo_client check")
    expect(auth.preauth(username="alice")["result"] == "auth", "preauth alice: auth")
    expect(auth.preauth(username="nobody")["result"] == "enroll", "preauth unknown user: enroll")
    expect(auth.preauth(username="dave")["result"] == "allow", "preauth bypass user: allow")
    expect(auth.preauth(username="erin")["result"] == "deny", "preauth locked user: deny")

    def push(username):
        txid = auth.auth("push", username=username, device="auto", async_txn=True)["txid"]
        while True:
            status = auth.auth_status(txid)
            if not status["waiting"]:
                return status

    status = push("alice")
    expect(status["success"] and status["status"] == "allow", "async push approved")
    status = push("bob")
    expect(not status["success"] and status["status"] == "deny", "async push denied")
    txid = auth.auth("push", username="carol", device="auto", async_txn=True)["txid"]
    expect(auth.auth_status(txid)["waiting"], "an unanswered push keeps waiting")
    result = auth.auth("push", username="alice", device="auto")
    expect(result["result"] == "allow", "sync push approved")
    result = auth.auth("passcode", username="alice", passcode="123456")
    expect(result["result"] == "allow", "passcode right")
    result = auth.auth("passcode", username="alice", passcode="123456")
    expect(result["result"] == "deny", "a passcode is used once")
    result = auth.auth("passcode", username="alice", passcode="000000")
    expect(result["result"] == "deny", "passcode wrong")

    # Refusals.
    wrong = duo_client.Auth(IKEY, "y" * 40, AUTH_HOST, port=PORT, ca_certs=CA)
    e = raises(RuntimeError, wrong.check, "check with a wrong secret key")
    expect(e.status == 401, "a wrong secret key is HTTP 401")
    other = duo_client.Auth("DIOTHERIKEY000000000", SKEY, AUTH_HOST, port=PORT, ca_certs=CA)
    raises(RuntimeError, other.check, "check with an unknown integration key")

    real_sign = duo_client.client.sign

    def tampered_sign(*args, **kwargs):
        header = real_sign(*args, **kwargs)
        import base64
        ikey, _, signature = base64.b64decode(header[6:]).decode().partition(":")
        signature = ("0" if signature[0] != "0" else "1") + signature[1:]
        return "Basic " + base64.b64encode(f"{ikey}:{signature}".encode()).decode()

    duo_client.client.sign = tampered_sign
    try:
        raises(RuntimeError, auth.check, "check with a tampered signature")
        raises(RuntimeError, lambda: auth.preauth(username="alice"),
               "preauth with a tampered signature")
    finally:
        duo_client.client.sign = real_sign

    real_formatdate = email.utils.formatdate
    duo_client.client.email.utils.formatdate = lambda *a, **k: real_formatdate(time.time() - 3600)
    try:
        raises(RuntimeError, auth.check, "check with a request date an hour old")
    finally:
        duo_client.client.email.utils.formatdate = real_formatdate
    # A body changed after signing: signature version 5 covers the JSON body.
    real_make_request = auth._make_request

    def swap_user(method, uri, body, headers):
        return real_make_request(method, uri, body.replace("alice", "bob"), headers)

    auth._make_request = swap_user
    try:
        raises(RuntimeError, lambda: auth.preauth(username="alice"),
               "preauth whose body was changed after signing")
    finally:
        auth._make_request = real_make_request


def main():
    universal_prompt()
    auth_api()
    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
