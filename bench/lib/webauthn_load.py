#!/usr/bin/env python3
"""Security keys for bench/webauthn: enrolment and pre-signed assertions (cryptography, cbor2).

  webauthn_load.py enrol --url URL --token TOKEN --secrets SECRETS --keys KEYS [--connections C]
      For every user of SECRETS (helper.py enrol's output: "USERNAME SECRET STEP"), registers an
      ES256 key through the JSON API v1: POST /api/v1/users/{u}/factors {kind: webauthn}, then
      POST .../factors/{id}/confirm with the credential a browser's create() would give
      (PublicKeyCredential.toJSON(): clientDataJSON of type webauthn.create for the server's
      origin, a "none" attestation object whose authenticator data carries the RP ID's hash,
      the user-present and user-verified flags, a 32-byte credential id and the COSE key).
      Writes one line per user: "USERNAME CREDENTIAL_ID PRIVATE_SCALAR_HEX COUNTER".

  webauthn_load.py prepare --url URL --token TOKEN --keys KEYS --kind right|wrong --per-user K
                           --threads T --out PREFIX [--connections C]
      Asks for K challenges per user (POST /api/v1/users/{u}/challenge {kind: webauthn}) and
      answers each as get() would: authenticator data with the next signature counter, a
      clientDataJSON of type webauthn.get, an ECDSA signature over authData ||
      SHA-256(clientDataJSON). wrong: the signature's last bit flipped (still well-formed DER,
      so the server checks it and refuses it). Writes one POST /api/v1/validate body per line,
      round by round (every user's first assertion, then every user's second...), so a user's
      assertions, whose counters grow, are thousands of requests apart and never overtake one
      another in flight. User i goes to PREFIX.(i % T + 1), as helper.py codes splits them
      between wrk's threads. right: the counters used are written back to KEYS (the server keeps
      the highest it accepted, and refuses one that does not grow). Each challenge is valid
      for 5 minutes and taken by its first answer: run the phase soon after, each body once.
      Prints "bodies=N seconds=S".

The origin is the one a server without public_url gives itself: http://localhost:PORT, RP ID
localhost (PORT from --url).
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import sys
import time
import urllib.parse

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Conn  # noqa: E402  (the bench's keep-alive HTTP client)

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
AAGUID = bytes(16)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def relying_party(url):
    """The origin and RP ID of a server listening on a loopback address with no public_url."""
    parts = urllib.parse.urlsplit(url)
    return f"http://localhost:{parts.port}", "localhost"


def client_data(kind, challenge, origin):
    """clientDataJSON as a browser serialises it (type, challenge, origin, crossOrigin)."""
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


def cose_es256(key):
    n = key.public_key().public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")},
        canonical=True,
    )


def read_keys(path):
    keys = []
    with open(path) as f:
        for line in f:
            name, cred, scalar, counter = line.split()
            key = ec.derive_private_key(int(scalar, 16), ec.SECP256R1())
            keys.append([name, cred, key, int(counter)])
    return keys


def write_keys(path, keys):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for name, cred, key, counter in keys:
            scalar = key.private_numbers().private_value
            f.write(f"{name} {cred} {scalar:064x} {counter}\n")
    os.replace(tmp, path)


async def run_workers(url, token, items, connections, job):
    """Runs job(conn, item) for every item over `connections` keep-alive connections."""
    parts = urllib.parse.urlsplit(url)
    queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker():
        conn = Conn(parts.hostname, parts.port, token)
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            await job(conn, item)

    await asyncio.gather(*(worker() for _ in range(connections)))


async def enrol(args):
    origin, rp_id = relying_party(args.url)
    rp_hash = hashlib.sha256(rp_id.encode()).digest()
    names = [line.split()[0] for line in open(args.secrets)]
    results = {}
    started = time.monotonic()

    async def job(conn, name):
        status, body = await conn.request(
            "POST", f"/api/v1/users/{name}/factors", {"kind": "webauthn", "label": "k"}
        )
        if status != 201:
            raise SystemExit(f"webauthn factor for {name}: HTTP {status}: {body[:300]!r}")
        factor = json.loads(body)
        options = factor["public_key"]
        if options["rp"].get("id", rp_id) != rp_id:
            raise SystemExit(f"the server's RP ID is {options['rp']['id']!r}, not {rp_id!r}")
        if -7 not in [p["alg"] for p in options["pubKeyCredParams"]]:
            raise SystemExit("the server does not offer ES256")
        key = ec.generate_private_key(ec.SECP256R1())
        cred_id = secrets.token_bytes(32)
        attested = AAGUID + len(cred_id).to_bytes(2, "big") + cred_id + cose_es256(key)
        auth_data = rp_hash + bytes([FLAG_AT | FLAG_UP | FLAG_UV]) + (0).to_bytes(4, "big")
        auth_data += attested
        attestation = cbor2.dumps(
            {"fmt": "none", "attStmt": {}, "authData": auth_data}, canonical=True
        )
        cdata = client_data("webauthn.create", options["challenge"], origin)
        credential = {
            "id": b64url(cred_id),
            "rawId": b64url(cred_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(cdata),
                "authenticatorData": b64url(auth_data),
                "transports": ["usb"],
                "publicKeyAlgorithm": -7,
                "attestationObject": b64url(attestation),
            },
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
        }
        status, body = await conn.request(
            "POST",
            f"/api/v1/users/{name}/factors/{factor['id']}/confirm",
            {"credential": credential},
        )
        if status != 200:
            raise SystemExit(f"confirm the key of {name}: HTTP {status}: {body[:300]!r}")
        results[name] = (b64url(cred_id), key)

    await run_workers(args.url, args.token, names, args.connections, job)
    write_keys(args.keys, [[n, results[n][0], results[n][1], 0] for n in names])
    elapsed = time.monotonic() - started
    print(f"enrolled={len(names)} seconds={elapsed:.1f} rate={len(names) / elapsed:.0f}")


async def prepare(args):
    origin, rp_id = relying_party(args.url)
    rp_hash = hashlib.sha256(rp_id.encode()).digest()
    keys = read_keys(args.keys)
    started = time.monotonic()
    challenges = {}  # (user index, round) -> challenge text

    async def job(conn, item):
        idx, rnd = item
        name = keys[idx][0]
        status, body = await conn.request(
            "POST", f"/api/v1/users/{name}/challenge", {"kind": "webauthn"}
        )
        if status != 200:
            raise SystemExit(f"challenge for {name}: HTTP {status}: {body[:300]!r}")
        options = json.loads(body)["public_key"]
        allowed = [d["id"] for d in options.get("allowCredentials", [])]
        if keys[idx][1] not in allowed or options.get("rpId", rp_id) != rp_id:
            raise SystemExit(f"the request options for {name} do not name its key: {options}")
        challenges[(idx, rnd)] = options["challenge"]

    items = [(i, r) for r in range(args.per_user) for i in range(len(keys))]
    await run_workers(args.url, args.token, items, args.connections, job)

    files = [open(f"{args.out}.{t + 1}", "w") for t in range(args.threads)]
    counts = [0] * args.threads
    for rnd in range(args.per_user):
        for idx, entry in enumerate(keys):
            name, cred, key, counter = entry
            counter += 1
            auth_data = rp_hash + bytes([FLAG_UP | FLAG_UV]) + counter.to_bytes(4, "big")
            cdata = client_data("webauthn.get", challenges[(idx, rnd)], origin)
            sig = key.sign(auth_data + hashlib.sha256(cdata).digest(), ec.ECDSA(hashes.SHA256()))
            if args.kind == "wrong":
                sig = sig[:-1] + bytes([sig[-1] ^ 0x01])
            else:
                entry[3] = counter
            body = {
                "username": name,
                "method": "webauthn",
                "credential": {
                    "id": cred,
                    "rawId": cred,
                    "type": "public-key",
                    "response": {
                        "clientDataJSON": b64url(cdata),
                        "authenticatorData": b64url(auth_data),
                        "signature": b64url(sig),
                    },
                    "authenticatorAttachment": "cross-platform",
                    "clientExtensionResults": {},
                },
            }
            t = idx % args.threads
            files[t].write(json.dumps(body, separators=(",", ":")) + "\n")
            counts[t] += 1
    for f in files:
        f.close()
    if min(counts) == 0:
        raise SystemExit("some wrk thread has no bodies: use more users or fewer threads")
    if args.kind == "right":
        write_keys(args.keys, keys)
    print(f"bodies={sum(counts)} seconds={time.monotonic() - started:.1f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("enrol")
    e.add_argument("--url", required=True)
    e.add_argument("--token", required=True)
    e.add_argument("--secrets", required=True)
    e.add_argument("--keys", required=True)
    e.add_argument("--connections", type=int, default=1)
    r = sub.add_parser("prepare")
    r.add_argument("--url", required=True)
    r.add_argument("--token", required=True)
    r.add_argument("--keys", required=True)
    r.add_argument("--kind", choices=["right", "wrong"], required=True)
    r.add_argument("--per-user", type=int, default=4)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--out", required=True)
    r.add_argument("--connections", type=int, default=4)
    args = p.parse_args()
    if args.cmd == "enrol":
        asyncio.run(enrol(args))
    else:
        asyncio.run(prepare(args))


if __name__ == "__main__":
    main()
