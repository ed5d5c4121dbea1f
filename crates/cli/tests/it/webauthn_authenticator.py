#!/usr/bin/env python3
"""A software WebAuthn authenticator and browser client, plus a cross-check with PyPI webauthn.

The Rust integration tests register and use passkeys against Twofold's JSON API with this
script, run by the test venv's Python. It plays the part of the browser (clientDataJSON, the
origin and RP ID checks, PublicKeyCredential.toJSON()) and of the authenticator (key pair,
authenticator data, "none" attestation, signature counter). It is written from the WebAuthn
Level 3 specification with PyPI cryptography and cbor2 only, so it is independent of Twofold.
PyPI webauthn (py_webauthn) is a second, independent relying party: the tests feed it the same
responses they give Twofold, and it never builds a response here.

    webauthn_authenticator.py create  --options JSON --origin ORIGIN --key-file PATH [...]
    webauthn_authenticator.py get     --options JSON --origin ORIGIN --key-file PATH [...]
    webauthn_authenticator.py check-options --kind creation|request --options JSON
    webauthn_authenticator.py verify-registration --credential JSON --challenge B64URL \\
        --origin ORIGIN --rp-id ID [--require-uv]
    webauthn_authenticator.py verify-assertion --credential JSON --challenge B64URL \\
        --origin ORIGIN --rp-id ID --public-key B64URL --counter N [--require-uv]
    webauthn_authenticator.py selftest

Every JSON argument is the JSON text itself, or @PATH to read it from a file. Give base64url
values as --flag=VALUE: base64url can start with "-", which argparse would otherwise take for
an option. Each command prints one JSON object on stdout; `SUBCOMMAND --help` tells more.

create: the options are PublicKeyCredentialCreationOptions in their JSON form (what
    PublicKeyCredential.parseCreationOptionsFromJSON takes). Prints {"credential": ...}, the
    PublicKeyCredential.toJSON() of the new credential, and writes the credential (private key
    PEM, credential id, RP ID, user handle, algorithm, counter, flags) to the key file.

get: the options are PublicKeyCredentialRequestOptions in their JSON form. Prints
    {"credential": ...}, the toJSON() of the assertion, and stores the new counter. Tamper
    flags each make one part of the response wrong, for a test that the relying party refuses it.

check-options, verify-registration, verify-assertion: py_webauthn's own parsers and verifiers.
    py_webauthn does not check crossOrigin nor the userHandle of an assertion: for those the
    tests rely on Twofold's refusal alone.

selftest: this script against py_webauthn, for every algorithm and every tamper flag (run it
    after changing a version in scripts/test-requirements.txt).

Exit codes: 0 done; 1 refused by py_webauthn (or a selftest failure); 2 bad arguments or
malformed options; 3 the options' excludeCredentials lists this credential (a real
authenticator refuses: InvalidStateError); 4 this credential cannot answer the request (another
RP ID, not in a non-empty allowCredentials, or not discoverable and no allowCredentials); 5 the
client refuses (the RP ID is not the origin's host or a parent of it, the origin is not secure,
or no offered algorithm is supported).
"""

import argparse
import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
import sys
import tempfile
import traceback
import urllib.parse

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# COSE algorithm identifiers this authenticator supports, by their CLI names.
ALGS = {"es256": -7, "eddsa": -8, "rs256": -257}
ALG_NAMES = {v: k for k, v in ALGS.items()}

# Authenticator data flags (WebAuthn §6.1).
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40

# A software authenticator has no certified model: the AAGUID is all zeros, as for "none".
AAGUID = bytes(16)
CREDENTIAL_ID_LENGTH = 32
# The specification's bounds: a challenge of at least 16 random bytes, a user handle of 1 to 64.
MIN_CHALLENGE = 16
MAX_USER_HANDLE = 64
# The origin a cross-origin iframe would be embedded in, for --cross-origin.
TOP_ORIGIN = "https://top.cross-origin.invalid"

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_EXCLUDED = 3
EXIT_NO_CREDENTIAL = 4
EXIT_CLIENT_REFUSES = 5


class Refused(Exception):
    """Ends a command with exit code `code` and `message` on stderr."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def b64url(data):
    """Base64url without padding, the encoding of every binary field in WebAuthn's JSON."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def from_b64url(text, what):
    """Strict base64url: the URL alphabet, no padding, no stray bits (WebAuthn's
    Base64URLString). Twofold must send exactly this; Python's decoder alone would let
    padding, other characters and non-canonical endings through."""
    if not isinstance(text, str) or not B64URL.match(text) or len(text) % 4 == 1:
        raise Refused(EXIT_BAD_INPUT, f"{what} is not unpadded base64url: {text!r}")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise Refused(EXIT_BAD_INPUT, f"{what} is not canonical base64url: {text!r}")
    return data


def json_arg(text):
    """An argparse type: JSON text, or @PATH for a file holding it."""
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {e}") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not JSON: {e}") from e


def need(obj, key, kind, what, optional=False):
    """obj[key], checked to be of `kind` (None when optional and absent)."""
    if not isinstance(obj, dict):
        raise Refused(EXIT_BAD_INPUT, f"{what} is not an object")
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise Refused(EXIT_BAD_INPUT, f"{what}.{key} is missing")
    value = obj[key]
    # JSON booleans are Python ints; an integer field must not accept them.
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise Refused(EXIT_BAD_INPUT, f"{what}.{key} has the wrong type: {value!r}")
    return value


def descriptors(options, key):
    """The credential ids of a list of PublicKeyCredentialDescriptor (excludeCredentials or
    allowCredentials); every entry must be well formed."""
    ids = []
    for i, d in enumerate(need(options, key, list, "options", optional=True) or []):
        what = f"options.{key}[{i}]"
        if need(d, "type", str, what) != "public-key":
            raise Refused(EXIT_BAD_INPUT, f"{what}.type is not public-key")
        ids.append(from_b64url(need(d, "id", str, what), f"{what}.id"))
        for t in need(d, "transports", list, what, optional=True) or []:
            if not isinstance(t, str):
                raise Refused(EXIT_BAD_INPUT, f"{what}.transports holds a non-string")
    return ids


def challenge_of(options):
    challenge = from_b64url(need(options, "challenge", str, "options"), "options.challenge")
    if len(challenge) < MIN_CHALLENGE:
        raise Refused(EXIT_BAD_INPUT, f"options.challenge has {len(challenge)} bytes, < 16")
    return challenge


def timeout_of(options):
    timeout = need(options, "timeout", int, "options", optional=True)
    if timeout is not None and timeout <= 0:
        raise Refused(EXIT_BAD_INPUT, f"options.timeout is not positive: {timeout}")
    return timeout


def parse_creation_options(options):
    """The fields of PublicKeyCredentialCreationOptionsJSON this authenticator uses, each
    checked as a browser's parseCreationOptionsFromJSON and create() would."""
    rp = need(options, "rp", dict, "options")
    user = need(options, "user", dict, "options")
    user_id = from_b64url(need(user, "id", str, "options.user"), "options.user.id")
    if not 1 <= len(user_id) <= MAX_USER_HANDLE:
        raise Refused(EXIT_BAD_INPUT, f"options.user.id has {len(user_id)} bytes, not 1 to 64")
    need(user, "name", str, "options.user")
    need(user, "displayName", str, "options.user")
    need(rp, "name", str, "options.rp")
    algs = []
    for i, p in enumerate(need(options, "pubKeyCredParams", list, "options")):
        what = f"options.pubKeyCredParams[{i}]"
        if need(p, "type", str, what) != "public-key":
            raise Refused(EXIT_BAD_INPUT, f"{what}.type is not public-key")
        algs.append(need(p, "alg", int, what))
    selection = need(options, "authenticatorSelection", dict, "options", optional=True) or {}
    for key in ("authenticatorAttachment", "residentKey", "userVerification"):
        need(selection, key, str, "options.authenticatorSelection", optional=True)
    need(selection, "requireResidentKey", bool, "options.authenticatorSelection", optional=True)
    attestation = need(options, "attestation", str, "options", optional=True)
    extensions = need(options, "extensions", dict, "options", optional=True) or {}
    timeout_of(options)
    return {
        "challenge": challenge_of(options),
        "rp_id": need(rp, "id", str, "options.rp", optional=True),
        "user_id": user_id,
        "algs": algs,
        "exclude": descriptors(options, "excludeCredentials"),
        "attestation": attestation,
        "extensions": extensions,
    }


def parse_request_options(options):
    """The fields of PublicKeyCredentialRequestOptionsJSON this authenticator uses."""
    need(options, "userVerification", str, "options", optional=True)
    need(options, "extensions", dict, "options", optional=True)
    timeout_of(options)
    return {
        "challenge": challenge_of(options),
        "rp_id": need(options, "rpId", str, "options", optional=True),
        "allow": descriptors(options, "allowCredentials"),
    }


def rp_id_for(origin, rp_id):
    """The RP ID a browser would use for `origin`: `rp_id` (the options' one) or, when absent,
    the origin's host. Refuses as a browser does (SecurityError) when the origin is not a
    secure one (https, or http on localhost) or the RP ID is neither its host nor a parent
    domain of it. Without the Public Suffix List a bare "com" is not refused: tests use their
    own names."""
    parts = urllib.parse.urlsplit(origin)
    host = parts.hostname or ""
    if (
        parts.scheme not in ("https", "http")
        or not host
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise Refused(EXIT_BAD_INPUT, f"--origin is not an origin (scheme://host[:port]): {origin}")
    localhost = host == "localhost" or host.endswith(".localhost")
    if parts.scheme == "http" and not localhost:
        raise Refused(EXIT_CLIENT_REFUSES, f"{origin} is not a secure context")
    rp_id = host if rp_id is None else rp_id
    try:
        ipaddress.ip_address(rp_id.strip("[]"))
        raise Refused(EXIT_CLIENT_REFUSES, f"the RP ID {rp_id!r} is an IP address")
    except ValueError:
        pass
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", rp_id):
        raise Refused(EXIT_CLIENT_REFUSES, f"the RP ID {rp_id!r} is not a lowercase domain")
    if host != rp_id and not host.endswith("." + rp_id):
        raise Refused(EXIT_CLIENT_REFUSES, f"the RP ID {rp_id!r} is not valid for {origin}")
    return rp_id


def client_data(kind, challenge, origin, args):
    """clientDataJSON as a browser serialises it (WebAuthn §5.8.1.1: type, challenge, origin,
    crossOrigin, then topOrigin when cross-origin), with the tamper flags applied."""
    out = {
        "type": args.type_override or kind,
        "challenge": args.challenge_override or b64url(challenge),
        "origin": args.origin_override or origin,
        "crossOrigin": bool(args.cross_origin),
    }
    if args.cross_origin:
        out["topOrigin"] = TOP_ORIGIN
    return json.dumps(out, separators=(",", ":")).encode()


# --- keys -----------------------------------------------------------------------------------


def new_key(alg):
    if alg == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "eddsa":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cose_key(alg, key):
    """The credential public key in COSE_Key form (RFC 9053), keys in CTAP2 canonical order."""
    pub = key.public_key()
    if alg == "es256":
        n = pub.public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")},
            canonical=True,
        )
    if alg == "eddsa":
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw}, canonical=True)
    n = pub.public_numbers()
    modulus = n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")
    exponent = n.e.to_bytes((n.e.bit_length() + 7) // 8, "big")
    return cbor2.dumps({1: 3, 3: -257, -1: modulus, -2: exponent}, canonical=True)


def spki(key):
    """response.publicKey of toJSON(): the SubjectPublicKeyInfo DER."""
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(alg, key, data):
    """An assertion signature: ECDSA in ASN.1 DER, raw Ed25519, or RSASSA-PKCS1-v1_5."""
    if alg == "es256":
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if alg == "eddsa":
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def load_key_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
        stored["key"] = serialization.load_pem_private_key(
            stored["private_key_pem"].encode(), password=None
        )
        stored["credential_id_bytes"] = from_b64url(stored["credential_id"], "credential_id")
        return stored
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Refused(EXIT_BAD_INPUT, f"cannot read the key file {path}: {e}") from e


def save_key_file(path, stored):
    """Writes the key file atomically, readable by its owner only."""
    data = {k: v for k, v in stored.items() if k not in ("key", "credential_id_bytes")}
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".webauthn-key-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def authenticator_data(rp_id, flags, counter, attested=b""):
    return (
        hashlib.sha256(rp_id.encode()).digest()
        + bytes([flags])
        + counter.to_bytes(4, "big")
        + attested
    )


def counter_arg(text):
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError("a signature counter is 0 to 2^32-1")
    return value


# --- create and get --------------------------------------------------------------------------


def cmd_create(args):
    opts = parse_creation_options(args.options)
    rp_id = rp_id_for(args.origin, opts["rp_id"])
    if os.path.exists(args.key_file):
        old = load_key_file(args.key_file)
        if old["rp_id"] == rp_id and old["credential_id_bytes"] in opts["exclude"]:
            raise Refused(
                EXIT_EXCLUDED,
                "excludeCredentials lists this authenticator's credential: not created",
            )
    if args.alg:
        alg = args.alg
    else:
        supported = [a for a in opts["algs"] if a in ALG_NAMES]
        if not supported:
            raise Refused(EXIT_CLIENT_REFUSES, f"no supported algorithm in {opts['algs']}")
        alg = ALG_NAMES[supported[0]]
    key = new_key(alg)
    if args.credential_id is not None:
        credential_id = from_b64url(args.credential_id, "--credential-id")
    else:
        credential_id = secrets.token_bytes(CREDENTIAL_ID_LENGTH)
    public_key = cose_key(alg, key)
    flags = FLAG_AT
    flags |= 0 if args.no_up else FLAG_UP
    flags |= 0 if args.no_uv else FLAG_UV
    flags |= FLAG_BE if args.backup_eligible else 0
    flags |= FLAG_BS if args.backed_up else 0
    attested = AAGUID + len(credential_id).to_bytes(2, "big") + credential_id + public_key
    auth_data = authenticator_data(args.rp_id_override or rp_id, flags, args.counter, attested)
    attestation_object = cbor2.dumps(
        {"fmt": "none", "attStmt": {}, "authData": auth_data}, canonical=True
    )
    cdata = client_data("webauthn.create", opts["challenge"], args.origin, args)
    stored = {
        "version": 1,
        "credential_id": b64url(credential_id),
        "rp_id": rp_id,
        "user_handle": b64url(opts["user_id"]),
        "alg": alg,
        "counter": args.counter,
        "resident": bool(args.resident),
        "backup_eligible": bool(args.backup_eligible),
        "backed_up": bool(args.backed_up),
        "attachment": args.attachment,
        "public_key": b64url(public_key),
        "private_key_pem": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }
    save_key_file(args.key_file, stored)
    extensions = {}
    if opts["extensions"].get("credProps") is True:
        extensions["credProps"] = {"rk": bool(args.resident)}
    return {
        "credential": {
            "id": b64url(credential_id),
            "rawId": b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(cdata),
                "authenticatorData": b64url(auth_data),
                "transports": transports(args.attachment),
                "publicKey": b64url(spki(key)),
                "publicKeyAlgorithm": ALGS[alg],
                "attestationObject": b64url(attestation_object),
            },
            "authenticatorAttachment": args.attachment,
            "clientExtensionResults": extensions,
        }
    }


def transports(attachment):
    return ["internal", "hybrid"] if attachment == "platform" else ["usb"]


def cmd_get(args):
    opts = parse_request_options(args.options)
    rp_id = rp_id_for(args.origin, opts["rp_id"])
    stored = load_key_file(args.key_file)
    credential_id = stored["credential_id_bytes"]
    if stored["rp_id"] != rp_id:
        raise Refused(
            EXIT_NO_CREDENTIAL, f"the credential is for {stored['rp_id']!r}, not {rp_id!r}"
        )
    if opts["allow"] and credential_id not in opts["allow"]:
        raise Refused(EXIT_NO_CREDENTIAL, "allowCredentials does not list this credential")
    if not opts["allow"] and not stored["resident"]:
        raise Refused(
            EXIT_NO_CREDENTIAL,
            "no allowCredentials and this credential is not discoverable (--resident)",
        )
    counter = stored["counter"] + 1 if args.counter is None else args.counter
    if counter >= 2**32:
        raise Refused(EXIT_BAD_INPUT, "the signature counter would overflow")
    stored["counter"] = max(stored["counter"], counter)
    flags = 0 if args.no_up else FLAG_UP
    flags |= 0 if args.no_uv else FLAG_UV
    flags |= FLAG_BE if stored["backup_eligible"] else 0
    flags |= FLAG_BS if stored["backed_up"] else 0
    auth_data = authenticator_data(args.rp_id_override or rp_id, flags, counter)
    cdata = client_data("webauthn.get", opts["challenge"], args.origin, args)
    signer = load_key_file(args.sign_with_key_file) if args.sign_with_key_file else stored
    signature = sign(signer["alg"], signer["key"], auth_data + hashlib.sha256(cdata).digest())
    if args.flip_signature:
        signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
    save_key_file(args.key_file, stored)
    response = {
        "clientDataJSON": b64url(cdata),
        "authenticatorData": b64url(auth_data),
        "signature": b64url(signature),
    }
    if args.user_handle_override is not None:
        response["userHandle"] = args.user_handle_override
    elif stored["resident"]:
        response["userHandle"] = stored["user_handle"]
    return {
        "credential": {
            "id": stored["credential_id"],
            "rawId": stored["credential_id"],
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": stored.get("attachment", "cross-platform"),
            "clientExtensionResults": {},
        }
    }


# --- py_webauthn -----------------------------------------------------------------------------


def py_webauthn_call(what, fn):
    """Runs one py_webauthn call; any exception it raises is its refusal (exit 1)."""
    try:
        return fn()
    except Exception as e:  # py_webauthn refuses with several exception types
        raise Refused(
            EXIT_REFUSED, f"py_webauthn refused the {what}: {type(e).__name__}: {e}"
        ) from e


def credential_arg(value):
    """--credential: a credential's toJSON(), or create's or get's whole output around it."""
    if isinstance(value, dict) and set(value) == {"credential"}:
        return value["credential"]
    return value


def enum_text(value):
    """py_webauthn's enums (some are plain strings in its dataclasses) as text."""
    return getattr(value, "value", value)


def cmd_check_options(args):
    """py_webauthn's parser, then this script's own stricter checks (py_webauthn accepts
    padded or non-canonical base64url and does not check lengths or types)."""
    from webauthn import options_to_json
    from webauthn.helpers import (
        parse_authentication_options_json,
        parse_registration_options_json,
    )

    if args.kind == "creation":
        parsed = py_webauthn_call("options", lambda: parse_registration_options_json(args.options))
        parse_creation_options(args.options)
    else:
        parsed = py_webauthn_call(
            "options", lambda: parse_authentication_options_json(args.options)
        )
        parse_request_options(args.options)
    return {"ok": True, "kind": args.kind, "parsed": json.loads(options_to_json(parsed))}


def cmd_verify_registration(args):
    from webauthn import verify_registration_response

    challenge = from_b64url(args.challenge, "--challenge")
    verified = py_webauthn_call(
        "registration",
        lambda: verify_registration_response(
            credential=credential_arg(args.credential),
            expected_challenge=challenge,
            expected_rp_id=args.rp_id,
            expected_origin=args.origin,
            require_user_verification=args.require_uv,
        ),
    )
    return {
        "ok": True,
        "credential_id": b64url(verified.credential_id),
        "public_key": b64url(verified.credential_public_key),
        "sign_count": verified.sign_count,
        "backed_up": verified.credential_backed_up,
        "device_type": enum_text(verified.credential_device_type),
        "user_verified": verified.user_verified,
        "fmt": enum_text(verified.fmt),
        "aaguid": verified.aaguid,
    }


def cmd_verify_assertion(args):
    from webauthn import verify_authentication_response

    challenge = from_b64url(args.challenge, "--challenge")
    public_key = from_b64url(args.public_key, "--public-key")
    verified = py_webauthn_call(
        "assertion",
        lambda: verify_authentication_response(
            credential=credential_arg(args.credential),
            expected_challenge=challenge,
            expected_rp_id=args.rp_id,
            expected_origin=args.origin,
            credential_public_key=public_key,
            credential_current_sign_count=args.counter,
            require_user_verification=args.require_uv,
        ),
    )
    return {
        "ok": True,
        "credential_id": b64url(verified.credential_id),
        "sign_count": verified.new_sign_count,
        "backed_up": verified.credential_backed_up,
        "device_type": enum_text(verified.credential_device_type),
        "user_verified": verified.user_verified,
    }


# --- selftest --------------------------------------------------------------------------------

SELF_ORIGIN = "https://login.example.test"
SELF_RP_ID = "example.test"

# Tamper flags of `get` that py_webauthn 3.0.1 does not check, with what a relying party must
# check itself: Twofold is tested for these, py_webauthn cannot stand in for it there.
NOT_CHECKED_BY_PY_WEBAUTHN = {
    "cross-origin": "clientDataJSON.crossOrigin true is accepted (the RP must refuse it "
    "unless it allows embedding)",
    "user-handle-override": "response.userHandle is not compared with the credential's user "
    "(the RP must)",
}


def run(argv):
    """Runs this CLI in-process: (exit code, printed object or error message)."""
    try:
        args = parser().parse_args(argv)
        return 0, args.func(args)
    except Refused as e:
        return e.code, str(e)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2, "argparse exit"


def creation_options(params, user_id, exclude=(), rp_id=SELF_RP_ID):
    return {
        "rp": {"id": rp_id, "name": "Selftest"},
        "user": {"id": b64url(user_id), "name": "alice", "displayName": "Alice"},
        "challenge": b64url(secrets.token_bytes(32)),
        "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in params],
        "timeout": 60000,
        "excludeCredentials": [{"type": "public-key", "id": i} for i in exclude],
        "authenticatorSelection": {"residentKey": "preferred", "userVerification": "preferred"},
        "attestation": "none",
    }


def request_options(allow):
    # The challenge starts with "-" every time, so the argument form --challenge=VALUE is tested.
    challenge = bytes([0xF8 | secrets.randbelow(4)]) + secrets.token_bytes(31)
    assert b64url(challenge).startswith("-")
    return {
        "challenge": b64url(challenge),
        "rpId": SELF_RP_ID,
        "allowCredentials": [{"type": "public-key", "id": i, "transports": ["usb"]} for i in allow],
        "userVerification": "required",
        "timeout": 60000,
    }


def selftest(_args):
    checks = []
    not_checked = {}

    def check(name, ok, detail=""):
        checks.append({"name": name, "ok": bool(ok), "detail": detail})
        print(f"{'ok  ' if ok else 'FAIL'} {name} {detail}".rstrip(), file=sys.stderr)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            selftest_checks(check, not_checked, tmp)
    except Exception:
        # A step whose output the next one needed went wrong: that is a failure too.
        check("selftest ran to the end", False, traceback.format_exc())

    failed = [c["name"] for c in checks if not c["ok"]]
    result = {
        "ok": not failed,
        "passed": len(checks) - len(failed),
        "failed": failed,
        "not_checked_by_py_webauthn": not_checked,
        "checks": checks,
    }
    if failed:
        print(json.dumps(result, indent=1))
        raise Refused(EXIT_REFUSED, f"selftest: {len(failed)} of {len(checks)} checks failed")
    return result


def selftest_checks(check, not_checked, tmp):
    """Every check of selftest, reported through `check`; files go to the directory `tmp`."""

    def path(name):
        return os.path.join(tmp, name)

    def create(opts, key_file, *extra, origin=SELF_ORIGIN):
        argv = ["create", "--options", json.dumps(opts), "--origin", origin, "--key-file"]
        return run(argv + [path(key_file), *extra])

    def get(opts, key_file, *extra, origin=SELF_ORIGIN):
        argv = ["get", "--options", json.dumps(opts), "--origin", origin, "--key-file"]
        return run(argv + [path(key_file), *extra])

    def check_options(kind, opts):
        return run(["check-options", "--kind", kind, "--options", json.dumps(opts)])

    def verify_registration(out, challenge, *extra):
        # Base64url values go as --flag=VALUE: they may start with "-".
        argv = ["verify-registration", "--credential", json.dumps(out), f"--challenge={challenge}"]
        return run(argv + ["--origin", SELF_ORIGIN, "--rp-id", SELF_RP_ID, *extra])

    def verify_assertion(out, challenge, public_key, counter, *extra):
        argv = ["verify-assertion", "--credential", json.dumps(out), f"--challenge={challenge}"]
        argv += ["--origin", SELF_ORIGIN, "--rp-id", SELF_RP_ID, f"--public-key={public_key}"]
        return run(argv + ["--counter", str(counter), *extra])

    def counter(key_file):
        return load_key_file(path(key_file))["counter"]

    def random_b64url(n):
        return b64url(secrets.token_bytes(n))

    for alg, alg_id in ALGS.items():
        key_file = f"{alg}.json"
        user_id = secrets.token_bytes(16)
        opts = creation_options([alg_id] + [a for a in ALGS.values() if a != alg_id], user_id)
        code, out = check_options("creation", opts)
        check(
            f"{alg}: py_webauthn parses the creation options", code == 0, "" if code == 0 else out
        )

        code, out = create(opts, key_file)
        if code != 0:
            check(f"{alg}: create", False, out)
            continue
        cred = out["credential"]
        stored = load_key_file(path(key_file))
        check(
            f"{alg}: create picks the first offered algorithm", stored["alg"] == alg, stored["alg"]
        )
        check(
            f"{alg}: response.publicKey is the key's SPKI",
            from_b64url(cred["response"]["publicKey"], "publicKey") == spki(stored["key"]),
        )
        att = cbor2.loads(from_b64url(cred["response"]["attestationObject"], "attestationObject"))
        auth_data = from_b64url(cred["response"]["authenticatorData"], "authenticatorData")
        check(
            f"{alg}: response.authenticatorData is the attestation object's, fmt none",
            att == {"fmt": "none", "attStmt": {}, "authData": auth_data},
        )
        code, reg = verify_registration(out, opts["challenge"], "--require-uv")
        check(f"{alg}: py_webauthn verifies the registration", code == 0, "" if code == 0 else reg)
        if code != 0:
            continue
        check(
            f"{alg}: py_webauthn reads the same credential id and public key",
            reg["credential_id"] == stored["credential_id"]
            and reg["public_key"] == stored["public_key"],
        )

        # Registration tampers: the same options, one wrong part each.
        for flag, extra in [
            ("origin-override", ["--origin-override", "https://evil.example.test"]),
            ("rp-id-override", ["--rp-id-override", "evil.test"]),
            ("type-override", ["--type-override", "webauthn.get"]),
            ("challenge-override", [f"--challenge-override={random_b64url(32)}"]),
            ("no-up", ["--no-up"]),
            ("no-uv", ["--no-uv"]),
        ]:
            code, out = create(opts, f"{alg}-reg-{flag}.json", *extra)
            if code != 0:
                check(f"{alg}: create --{flag}", False, out)
                continue
            code, out = verify_registration(out, opts["challenge"], "--require-uv")
            check(
                f"{alg}: py_webauthn refuses a registration with --{flag}",
                code == EXIT_REFUSED,
                out if code == EXIT_REFUSED else "accepted",
            )

        # Two good assertions, the counter going up.
        public_key = reg["public_key"]
        for expected in (1, 2):
            req = request_options([stored["credential_id"]])
            if expected == 1:
                code, out = check_options("request", req)
                check(f"{alg}: py_webauthn parses the request options", code == 0, out)
            code, out = get(req, key_file)
            if code != 0:
                check(f"{alg}: get", False, out)
                break
            code, ver = verify_assertion(
                out, req["challenge"], public_key, expected - 1, "--require-uv"
            )
            check(
                f"{alg}: py_webauthn verifies assertion {expected}",
                code == 0 and ver["sign_count"] == expected,
                "" if code == 0 else ver,
            )

        # Another credential of the same algorithm, whose key signs for this one.
        other_file = f"{alg}-other.json"
        code, out = create(creation_options([alg_id], user_id), other_file)
        check(f"{alg}: create another credential", code == 0, "" if code == 0 else out)

        # Assertion tampers: each must be refused by a correct relying party.
        for flag, extra in [
            ("flip-signature", ["--flip-signature"]),
            ("origin-override", ["--origin-override", "https://evil.example.test"]),
            ("rp-id-override", ["--rp-id-override", "evil.test"]),
            ("type-override", ["--type-override", "webauthn.create"]),
            ("no-up", ["--no-up"]),
            ("no-uv", ["--no-uv"]),
            ("challenge-override", [f"--challenge-override={random_b64url(32)}"]),
            # The last counter again: a replayed response or a cloned authenticator.
            ("counter", ["--counter", str(counter(key_file))]),
            ("cross-origin", ["--cross-origin"]),
            ("user-handle-override", [f"--user-handle-override={random_b64url(16)}"]),
            ("sign-with-key-file", ["--sign-with-key-file", path(other_file)]),
        ]:
            current = counter(key_file)
            req = request_options([stored["credential_id"]])
            code, out = get(req, key_file, *extra)
            if code != 0:
                check(f"{alg}: get --{flag}", False, out)
                continue
            code, ver = verify_assertion(out, req["challenge"], public_key, current, "--require-uv")
            if flag not in NOT_CHECKED_BY_PY_WEBAUTHN:
                check(
                    f"{alg}: py_webauthn refuses --{flag}",
                    code == EXIT_REFUSED,
                    ver if code == EXIT_REFUSED else "accepted",
                )
                continue
            # py_webauthn cannot tell these apart, so check that the tamper is really sent.
            sent = out["credential"]["response"]
            cdata = json.loads(from_b64url(sent["clientDataJSON"], "clientDataJSON"))
            if flag == "cross-origin":
                carried = cdata["crossOrigin"] is True and cdata["topOrigin"] == TOP_ORIGIN
            else:
                carried = sent.get("userHandle") == extra[0].split("=", 1)[1]
            check(f"{alg}: the response carries --{flag}", carried)
            not_checked[f"--{flag}"] = NOT_CHECKED_BY_PY_WEBAUTHN[flag]
            check(
                f"{alg}: py_webauthn accepts --{flag}, as known (not its check)",
                code == 0,
                "refused now: update NOT_CHECKED_BY_PY_WEBAUTHN" if code != 0 else "",
            )

        # A good assertion still verifies after the tampers (the counter went on).
        current = counter(key_file)
        req = request_options([stored["credential_id"]])
        code, out = get(req, key_file)
        code, ver = verify_assertion(out, req["challenge"], public_key, current, "--require-uv")
        check(
            f"{alg}: a good assertion after the tampers verifies",
            code == 0 and ver["sign_count"] == current + 1,
            "" if code == 0 else ver,
        )

    # The authenticator's and the browser's own refusals.
    stored = load_key_file(path("es256.json"))
    user_id = from_b64url(stored["user_handle"], "user_handle")
    code, out = create(creation_options([-7], user_id, [stored["credential_id"]]), "es256.json")
    check("create refuses with exit 3 when excludeCredentials lists it", code == EXIT_EXCLUDED, out)
    check(
        "the excluded credential is kept",
        load_key_file(path("es256.json"))["credential_id"] == stored["credential_id"],
    )
    code, out = create(creation_options([-7], user_id, [random_b64url(32)]), "es256-2.json")
    check("create ignores excludeCredentials of other credentials", code == 0, out)
    code, out = get(request_options([random_b64url(32)]), "es256.json")
    check("get refuses with exit 4 when allowCredentials does not list it", code == 4, out)
    code, out = get(request_options([]), "es256.json")
    check(
        "get refuses with exit 4 a non-discoverable credential, no allowCredentials", code == 4, out
    )
    other_rp = dict(request_options([stored["credential_id"]]), rpId="login.example.test")
    code, out = get(other_rp, "es256.json")
    check("get refuses with exit 4 a request for another RP ID", code == EXIT_NO_CREDENTIAL, out)
    for rp_id, origin in [
        ("other.test", SELF_ORIGIN),
        ("ample.test", "https://example.test"),
        ("example.test", "http://login.example.test"),
        ("127.0.0.1", "https://127.0.0.1"),
    ]:
        opts = creation_options([-7], user_id, rp_id=rp_id)
        code, out = create(opts, "refused.json", origin=origin)
        check(f"create refuses RP ID {rp_id} for {origin} with exit 5", code == 5, out)
    opts = creation_options([-7], user_id, rp_id="localhost")
    code, out = create(opts, "localhost.json", origin="http://localhost:8443")
    check("create takes http://localhost, RP ID localhost", code == 0, "" if code == 0 else out)
    code, out = create(creation_options([-35, -36], user_id), "refused.json")
    check("create refuses with exit 5 when no offered algorithm is supported", code == 5, out)
    code, _ = create(creation_options([-7], user_id), "alg.json", "--alg", "eddsa")
    check(
        "create --alg overrides the offered algorithms",
        code == 0 and load_key_file(path("alg.json"))["alg"] == "eddsa",
    )

    # A discoverable, backed-up credential: the user handle comes back, the flags are read.
    rk_user = secrets.token_bytes(16)
    opts = creation_options([-8], rk_user)
    flags = ["--resident", "--backup-eligible", "--backed-up"]
    code, out = create(opts, "resident.json", *flags)
    code, reg = verify_registration(out, opts["challenge"])
    check(
        "py_webauthn reads a backed-up multi-device registration",
        code == 0 and reg["backed_up"] is True and reg["device_type"] == "multi_device",
        "" if code == 0 else reg,
    )
    req = request_options([])
    code, out = get(req, "resident.json")
    check(
        "a discoverable credential answers an empty allowCredentials with its user handle",
        code == 0 and out["credential"]["response"].get("userHandle") == b64url(rk_user),
    )
    code, ver = verify_assertion(out, req["challenge"], reg["public_key"], 0)
    check(
        "py_webauthn verifies it, backed up",
        code == 0 and ver["backed_up"] is True,
        "" if code == 0 else ver,
    )
    code, out = get(request_options([stored["credential_id"]]), "es256.json")
    check(
        "a non-discoverable credential sends no user handle",
        code == 0 and "userHandle" not in out["credential"]["response"],
    )
    opts = creation_options([-7], rk_user)
    code, out = create(opts, "bs.json", "--backed-up")
    code, reg = verify_registration(out, opts["challenge"])
    check("py_webauthn refuses backed up without backup eligible", code == EXIT_REFUSED, reg)

    # Malformed options are refused before anything is created.
    good = creation_options([-7], user_id)
    for name, bad in [
        ("a padded challenge", dict(good, challenge=good["challenge"] + "=")),
        ("a standard-base64 challenge", dict(good, challenge="+/" + good["challenge"][2:])),
        ("a 15-byte challenge", dict(good, challenge=b64url(bytes(15)))),
        ("a 65-byte user.id", dict(good, user=dict(good["user"], id=b64url(bytes(65))))),
        ("an alg as a string", dict(good, pubKeyCredParams=[{"type": "public-key", "alg": "-7"}])),
    ]:
        code, out = check_options("creation", bad)
        check(f"check-options refuses {name}", code != 0, out)
        code, out = create(bad, "bad.json")
        check(f"create refuses {name} with exit 2", code == EXIT_BAD_INPUT, out)


# --- command line ----------------------------------------------------------------------------


def add_common_tampers(p):
    """Flags that make clientDataJSON or the authenticator data wrong, for create and get."""
    p.add_argument(
        "--origin-override", metavar="ORIGIN", help="put another origin in clientDataJSON"
    )
    p.add_argument(
        "--rp-id-override", metavar="ID", help="hash another RP ID into the authenticator data"
    )
    p.add_argument("--type-override", metavar="TYPE", help="put another type in clientDataJSON")
    p.add_argument(
        "--challenge-override", metavar="B64URL", help="put another challenge in clientDataJSON"
    )
    p.add_argument(
        "--cross-origin",
        action="store_true",
        help="crossOrigin true (with a topOrigin) in clientDataJSON",
    )
    p.add_argument("--no-up", action="store_true", help="clear the user-present flag")
    p.add_argument("--no-uv", action="store_true", help="clear the user-verified flag")


def parser():
    top = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[0],
        epilog="Run SUBCOMMAND --help for its arguments; the module docstring tells the rest. "
        'Give base64url values as --flag=VALUE: they may start with "-".',
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "create",
        formatter_class=raw,
        help="register a new credential (navigator.credentials.create)",
        description="Makes a new credential for PublicKeyCredentialCreationOptions (JSON form) as\n"
        'a browser and authenticator would, "none" attestation, and prints\n'
        '{"credential": <PublicKeyCredential.toJSON()>}. The credential is written to --key-file\n'
        "(JSON: private key PEM, credential_id, rp_id, user_handle, alg, counter, flags).\n"
        "Uses the first algorithm of pubKeyCredParams it supports (ES256, EdDSA, RS256).\n"
        "Exit 3 when --key-file already holds a credential that excludeCredentials lists;\n"
        "exit 5 when the RP ID is not valid for --origin or no offered algorithm is supported.\n"
        "The tamper flags make the response one a relying party must refuse.",
    )
    p.add_argument(
        "--options",
        type=json_arg,
        required=True,
        metavar="JSON",
        help="the creation options (or @FILE)",
    )
    p.add_argument(
        "--origin", required=True, help="the page's origin, e.g. https://login.example.com"
    )
    p.add_argument(
        "--key-file", required=True, metavar="PATH", help="where the credential is written"
    )
    p.add_argument(
        "--alg", choices=sorted(ALGS), help="this algorithm, even one the options do not offer"
    )
    p.add_argument(
        "--resident",
        action="store_true",
        help="a discoverable credential (gets return the user handle)",
    )
    p.add_argument(
        "--counter",
        type=counter_arg,
        default=0,
        metavar="N",
        help="the initial signature counter (0)",
    )
    p.add_argument("--backup-eligible", action="store_true", help="set BE (a syncable passkey)")
    p.add_argument(
        "--backed-up",
        action="store_true",
        help="set BS (without --backup-eligible: an invalid pair)",
    )
    p.add_argument("--attachment", choices=["platform", "cross-platform"], default="cross-platform")
    p.add_argument(
        "--credential-id",
        metavar="B64URL",
        help="use this credential id instead of a random one (an id some credential already has)",
    )
    add_common_tampers(p)
    p.set_defaults(func=cmd_create)

    p = sub.add_parser(
        "get",
        formatter_class=raw,
        help="sign an assertion (navigator.credentials.get)",
        description="Signs an assertion for PublicKeyCredentialRequestOptions (JSON form) with\n"
        'the credential in --key-file, and prints {"credential": <PublicKeyCredential.toJSON()>}.\n'
        "It signs with the stored counter plus one, or with --counter N; the stored counter\n"
        'only grows. Give base64url values as --flag=VALUE (they may start with "-").\n'
        "Exit 4 when the credential cannot answer: another RP ID, not in a non-empty\n"
        "allowCredentials, or an empty one and the credential is not discoverable.\n"
        "Exit 5 when the RP ID is not valid for --origin.\n"
        "Each tamper flag makes the response one a relying party must refuse.",
    )
    p.add_argument(
        "--options",
        type=json_arg,
        required=True,
        metavar="JSON",
        help="the request options (or @FILE)",
    )
    p.add_argument("--origin", required=True, help="the page's origin")
    p.add_argument("--key-file", required=True, metavar="PATH", help="the credential, from create")
    p.add_argument(
        "--counter", type=counter_arg, metavar="N", help="sign with this counter (e.g. an old one)"
    )
    p.add_argument("--flip-signature", action="store_true", help="flip one bit of the signature")
    p.add_argument("--user-handle-override", metavar="B64URL", help="send this userHandle")
    p.add_argument(
        "--sign-with-key-file",
        metavar="OTHER",
        help="sign with another credential's key, under this id",
    )
    add_common_tampers(p)
    p.set_defaults(func=cmd_get)

    p = sub.add_parser(
        "check-options",
        help="parse Twofold's options with py_webauthn",
        description="Parses creation or request options with py_webauthn's "
        "parse_registration_options_json / parse_authentication_options_json, then checks "
        "what it lets pass: unpadded canonical base64url, a challenge of at least 16 bytes, a "
        "user.id of 1 to 64 bytes, types and integer algorithms. Prints what py_webauthn parsed; "
        "exit 1 when it refuses, 2 when the stricter checks do.",
    )
    p.add_argument("--kind", choices=["creation", "request"], required=True)
    p.add_argument(
        "--options", type=json_arg, required=True, metavar="JSON", help="the options (or @FILE)"
    )
    p.set_defaults(func=cmd_check_options)

    p = sub.add_parser(
        "verify-registration",
        help="verify a registration with py_webauthn",
        description="Runs py_webauthn's verify_registration_response. Prints credential_id, "
        "public_key (the COSE key, base64url: give it to verify-assertion), sign_count, "
        "backed_up, device_type, user_verified, fmt, aaguid. Exit 1 when py_webauthn refuses.",
    )
    p.add_argument(
        "--credential",
        type=json_arg,
        required=True,
        metavar="JSON",
        help="toJSON() of create(), or create's output (or @FILE)",
    )
    p.add_argument(
        "--challenge", required=True, metavar="B64URL", help="the challenge of the options"
    )
    p.add_argument("--origin", required=True, help="the expected origin")
    p.add_argument("--rp-id", required=True, metavar="ID", help="the expected RP ID")
    p.add_argument("--require-uv", action="store_true", help="require the user-verified flag")
    p.set_defaults(func=cmd_verify_registration)

    p = sub.add_parser(
        "verify-assertion",
        help="verify an assertion with py_webauthn",
        description="Runs py_webauthn's verify_authentication_response. Prints credential_id, "
        "sign_count, backed_up, device_type, user_verified. Exit 1 when py_webauthn refuses. "
        "py_webauthn does not check crossOrigin nor the userHandle.",
    )
    p.add_argument(
        "--credential",
        type=json_arg,
        required=True,
        metavar="JSON",
        help="toJSON() of get(), or get's output (or @FILE)",
    )
    p.add_argument(
        "--challenge", required=True, metavar="B64URL", help="the challenge of the options"
    )
    p.add_argument("--origin", required=True, help="the expected origin")
    p.add_argument("--rp-id", required=True, metavar="ID", help="the expected RP ID")
    p.add_argument(
        "--public-key",
        required=True,
        metavar="B64URL",
        help="the COSE public key from the registration",
    )
    p.add_argument(
        "--counter",
        type=counter_arg,
        required=True,
        metavar="N",
        help="the sign count stored so far",
    )
    p.add_argument("--require-uv", action="store_true", help="require the user-verified flag")
    p.set_defaults(func=cmd_verify_assertion)

    p = sub.add_parser(
        "selftest",
        help="this authenticator against py_webauthn",
        description="For ES256, EdDSA and RS256: create, verify with py_webauthn, get twice, "
        "verify; then every tamper flag, which py_webauthn must refuse (the ones it does not "
        "check are listed); then the authenticator's own refusals (exit 3, 4, 5) and malformed "
        "options. Progress on stderr; exit 0 only if every check passes.",
    )
    p.set_defaults(func=selftest)
    return top


def main():
    args = parser().parse_args()
    try:
        result = args.func(args)
    except Refused as e:
        print(e, file=sys.stderr)
        return e.code
    except Exception:
        traceback.print_exc()
        return EXIT_BAD_INPUT
    print(json.dumps(result, indent=1 if args.command == "selftest" else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
