"""Writes a PSKC file with python-pskc, as privacyIDEA and token vendors' tools do.

Usage: pskc_write.py OUT SPEC_JSON, where SPEC is
  {"password": "…" (optional: PBKDF2 protection), "iterations": 1000 (optional),
   "preshared_hex": "…" (optional: a pre-shared AES key instead of a password),
   "fields": ["secret", "counter", …] (optional: the values encrypted, else the secret),
   "keys": [{"id", "algorithm", "secret_hex", "key_userid" | "device_userid", "digits",
             "suite", "interval", "counter", "drift", "t0", "friendly_name", "manufacturer",
             "serial"}, …]}
Fields left out are not written.
"""
import binascii
import json
import sys

import pskc

out, spec = sys.argv[1], json.loads(sys.argv[2])
container = pskc.PSKC()
for k in spec["keys"]:
    key = container.add_key(
        id=k["id"],
        algorithm=k["algorithm"],
        secret=binascii.unhexlify(k["secret_hex"]),
    )
    for field, attr in [
        ("key_userid", "key_userid"),
        ("device_userid", "device_userid"),
        ("digits", "response_length"),
        ("suite", "algorithm_suite"),
        ("interval", "time_interval"),
        ("counter", "counter"),
        ("drift", "time_drift"),
        ("t0", "time_offset"),
        ("friendly_name", "friendly_name"),
        ("manufacturer", "manufacturer"),
        ("serial", "serial"),
    ]:
        if field in k:
            setattr(key, attr, k[field])
    if "digits" in k:
        key.response_encoding = "DECIMAL"
if "password" in spec:
    container.encryption.setup_pbkdf2(
        spec["password"],
        iterations=spec.get("iterations", 12000),
        fields=spec.get("fields"),
    )
if "preshared_hex" in spec:
    container.encryption.setup_preshared_key(
        key=binascii.unhexlify(spec["preshared_hex"]),
        key_name="Pre-shared-key",
        fields=spec.get("fields"),
    )
container.write(out)
