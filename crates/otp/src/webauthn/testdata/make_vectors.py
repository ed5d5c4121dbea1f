"""Writes vectors.json: one registration and one assertion per algorithm (ES256, EdDSA, RS256),
made independently of the Rust code with Python `cryptography` (keys, signatures) and `cbor2`
(attestation object, COSE keys), then checked with py_webauthn when it is installed.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install cryptography cbor2 webauthn
    /tmp/venv/bin/python make_vectors.py > vectors.json

ECDSA signatures are randomised, so a new run writes other (equally valid) vectors.
"""

import base64
import hashlib
import json
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

RP_ID = "example.com"
ORIGIN = "https://login.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def cose_key(private):
    if isinstance(private, ec.EllipticCurvePrivateKey):
        numbers = private.public_key().public_numbers()
        return -7, {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    if isinstance(private, ed25519.Ed25519PrivateKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return -8, {1: 1, 3: -8, -1: 6, -2: raw}
    numbers = private.public_key().public_numbers()
    return -257, {1: 3, 3: -257, -1: int_bytes(numbers.n), -2: int_bytes(numbers.e)}


def sign(private, message: bytes) -> bytes:
    if isinstance(private, ec.EllipticCurvePrivateKey):
        return private.sign(message, ec.ECDSA(hashes.SHA256()))
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(message)
    return private.sign(message, padding.PKCS1v15(), hashes.SHA256())


def client_data(kind: str, challenge: bytes) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": b64url(challenge), "origin": ORIGIN, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


def vector(name: str, private, seed: int):
    alg, key = cose_key(private)
    public_key = cbor2.dumps(key)
    credential_id = hashlib.sha256(name.encode()).digest()
    aaguid = bytes(range(seed, seed + 16))
    rp_hash = hashlib.sha256(RP_ID.encode()).digest()

    reg_challenge = hashlib.sha256(b"registration " + name.encode()).digest()
    # Flags UP | UV | BE | AT; counter 0.
    reg_auth_data = (
        rp_hash + bytes([0x01 | 0x04 | 0x08 | 0x40]) + struct.pack(">I", 0)
        + aaguid + struct.pack(">H", len(credential_id)) + credential_id + public_key
    )
    attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": reg_auth_data})
    reg_client = client_data("webauthn.create", reg_challenge)
    registration = {
        "id": b64url(credential_id),
        "rawId": b64url(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(reg_client),
            "attestationObject": b64url(attestation),
            "transports": ["internal", "hybrid"],
        },
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
    }

    auth_challenge = hashlib.sha256(b"authentication " + name.encode()).digest()
    # Flags UP | UV | BE | BS; counter 7.
    auth_data = rp_hash + bytes([0x01 | 0x04 | 0x08 | 0x10]) + struct.pack(">I", 7)
    auth_client = client_data("webauthn.get", auth_challenge)
    signature = sign(private, auth_data + hashlib.sha256(auth_client).digest())
    assertion = {
        "id": b64url(credential_id),
        "rawId": b64url(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(auth_client),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(b"user-" + name.encode()),
        },
        "clientExtensionResults": {},
    }
    check_with_py_webauthn(registration, reg_challenge, assertion, auth_challenge, public_key)
    return {
        "name": name,
        "alg": alg,
        "rp_id": RP_ID,
        "origin": ORIGIN,
        "aaguid": aaguid.hex(),
        "public_key": public_key.hex(),
        "registration_challenge": reg_challenge.hex(),
        "registration": registration,
        "assertion_challenge": auth_challenge.hex(),
        "assertion": assertion,
    }


def check_with_py_webauthn(registration, reg_challenge, assertion, auth_challenge, public_key):
    try:
        import webauthn
    except ImportError:
        return
    verified = webauthn.verify_registration_response(
        credential=json.dumps(registration), expected_challenge=reg_challenge,
        expected_origin=ORIGIN, expected_rp_id=RP_ID, require_user_verification=True,
    )
    assert verified.credential_public_key == public_key
    webauthn.verify_authentication_response(
        credential=json.dumps(assertion), expected_challenge=auth_challenge,
        expected_rp_id=RP_ID, expected_origin=ORIGIN, credential_public_key=public_key,
        credential_current_sign_count=0, require_user_verification=True,
    )


if __name__ == "__main__":
    vectors = [
        vector("es256", ec.generate_private_key(ec.SECP256R1()), 1),
        vector("eddsa", ed25519.Ed25519PrivateKey.generate(), 2),
        vector("rs256", rsa.generate_private_key(public_exponent=65537, key_size=2048), 3),
    ]
    print(json.dumps(vectors, indent=1))
