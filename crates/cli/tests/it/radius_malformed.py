#!/usr/bin/env python3
"""A RADIUS client built on PyPI pyrad (an independent implementation), for radius_malformed.rs.

    radius_malformed.py malformed  HOST PORT SECRET USER CODE
    radius_malformed.py duplicates HOST PORT SECRET USER CODE WRONG
    radius_malformed.py good       HOST PORT SECRET USER CODE

Each prints one JSON object on stdout.

malformed: pyrad builds a valid Access-Request (Message-Authenticator first, User-Name,
    User-Password hiding CODE, NAS-Identifier), checked here with pyrad's own decoder and
    Message-Authenticator check. Each case is that packet with one defect, the Message-
    Authenticator computed again over the defective octets wherever one can be (so only the
    defect is wrong). Every case goes out from a socket of its own, then all sockets are watched
    for one wait of at most 0.3 s. Prints {"cases": [{"name", "octets", "reason", "answered"}]}:
    `reason` is the drop reason the server should count for it.

duplicates: valid Access-Requests, built by pyrad with a right Message-Authenticator, that
    carry an attribute twice: User-Name (USER, then another name) with CODE, and User-Password
    (CODE, then WRONG). Prints {"cases": [{"name", "answered", "code", "valid"}]}: the answer's
    Code and whether pyrad's VerifyReply (Message-Authenticator required) accepts it.

good: a valid Access-Request for USER with CODE sent with pyrad's Client (one try, 3 s), its
    answer checked by pyrad's VerifyReply with the Message-Authenticator required. Prints
    {"answered", "code", "valid"}.
"""

import hashlib
import hmac
import io
import json
import select
import socket
import struct
import sys
import time

from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

DICTIONARY = """
ATTRIBUTE User-Name             1   string
ATTRIBUTE User-Password         2   string encrypt=1
ATTRIBUTE NAS-IP-Address        4   ipaddr
ATTRIBUTE Reply-Message         18  string
ATTRIBUTE State                 24  octets
ATTRIBUTE NAS-Identifier        32  string
ATTRIBUTE Proxy-State           33  octets
ATTRIBUTE Message-Authenticator 80  octets
"""

NO_ANSWER_WAIT = 0.3
ANSWER_WAIT = 3.0
NAS_IDENTIFIER = 32
MESSAGE_AUTHENTICATOR = 80


def dictionary():
    return Dictionary(io.StringIO(DICTIONARY))


def request(secret, user, password, identifier, with_message_authenticator=True):
    """A pyrad Access-Request: User-Name, User-Password, NAS-Identifier (+ Message-Authenticator)."""
    req = packet.AuthPacket(
        code=packet.AccessRequest, id=identifier, secret=secret, dict=dictionary()
    )
    req["User-Name"] = user
    req["User-Password"] = req.PwCrypt(password)
    req["NAS-Identifier"] = "pyrad"
    if with_message_authenticator:
        req.add_message_authenticator()
    return req


def with_length(raw, length):
    return raw[:2] + struct.pack("!H", length) + raw[4:]


def sign(secret, raw):
    """Computes the Message-Authenticator (RFC 3579 §3.2) of `raw` again, over every octet sent:
    `raw` starts with the header and the Message-Authenticator pyrad put first."""
    assert raw[20] == MESSAGE_AUTHENTICATOR and raw[21] == 18, raw[:24].hex()
    zeroed = raw[:22] + b"\0" * 16 + raw[38:]
    mac = hmac.new(secret, zeroed, hashlib.md5).digest()
    return raw[:22] + mac + raw[38:]


def grown(secret, raw, extra):
    """`raw` with `extra` attribute octets appended, Length following, signed again."""
    out = raw + extra
    return sign(secret, with_length(out, len(out)))


def oversized(secret, raw, total):
    """`raw` grown with NAS-Identifier attributes to exactly `total` octets (Length too)."""
    out = raw
    while len(out) < total:
        n = min(255, total - len(out))
        if 0 < total - len(out) - n < 2:
            n -= 2
        out += bytes([NAS_IDENTIFIER, n]) + b"x" * (n - 2)
    assert len(out) == total
    return sign(secret, with_length(out, total))


def malformed_cases(secret, user, code):
    req = request(secret, user, code, identifier=1)
    raw = req.RequestPacket()
    # The packet is valid: pyrad decodes it and checks its Message-Authenticator.
    back = packet.AuthPacket(secret=secret, dict=dictionary(), packet=raw)
    assert back.verify_message_authenticator(), "pyrad's own request does not verify"
    assert back["User-Name"] == [user]
    assert back.PwDecrypt(back["User-Password"][0]) == code
    # pyrad puts the Message-Authenticator first; `sign` relies on it.
    assert raw[20] == MESSAGE_AUTHENTICATOR and sign(secret, raw) == raw

    wrong_code = bytearray(raw)
    wrong_code[0] = packet.AccessAccept
    tampered = bytearray(raw)
    tampered[22] ^= 0x01
    missing = request(secret, user, code, identifier=1, with_message_authenticator=False)

    return [
        ("too_short_19", raw[:19], "malformed"),
        ("length_beyond_datagram", with_length(raw, len(raw) + 16), "malformed"),
        ("length_below_20", with_length(raw, 19), "malformed"),
        ("attribute_overrun", grown(secret, raw, bytes([NAS_IDENTIFIER, 20]) + b"abc"), "malformed"),
        ("attribute_length_0", grown(secret, raw, bytes([NAS_IDENTIFIER, 0])), "malformed"),
        ("attribute_length_1", grown(secret, raw, bytes([NAS_IDENTIFIER, 1])), "malformed"),
        ("datagram_4100", oversized(secret, raw, 4100), "malformed"),
        ("datagram_8192", oversized(secret, raw, 8192), "malformed"),
        (
            "two_message_authenticators",
            grown(secret, raw, bytes([MESSAGE_AUTHENTICATOR, 18]) + b"\0" * 16),
            "malformed",
        ),
        ("code_access_accept", sign(secret, bytes(wrong_code)), "not_access_request"),
        ("message_authenticator_wrong", bytes(tampered), "bad_message_authenticator"),
        ("message_authenticator_missing", missing.RequestPacket(), "missing_message_authenticator"),
    ]


def send_all(host, port, datagrams, wait):
    """Sends each datagram from a socket of its own; returns, per datagram, the first answer
    (bytes) or None, after watching all sockets for at most `wait` seconds."""
    socks = []
    for data in datagrams:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.sendto(data, (host, port))
        socks.append(s)
    answers = [None] * len(socks)
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        pending = [s for s, a in zip(socks, answers) if a is None]
        if left <= 0 or not pending:
            break
        ready, _, _ = select.select(pending, [], [], left)
        for s in ready:
            answers[socks.index(s)] = s.recv(65535)
    for s in socks:
        s.close()
    return answers


def verified(req, raw):
    """(code, valid) of an answer to `req`: decoded by pyrad, checked by its VerifyReply."""
    try:
        reply = req.CreateReply(packet=raw)
    except packet.PacketError:
        return None, False
    return reply.code, bool(req.VerifyReply(reply, raw, enforce_ma=True))


def main():
    cmd, host, port, secret, user, code = sys.argv[1:7]
    port = int(port)
    secret = secret.encode()
    if cmd == "malformed":
        cases = malformed_cases(secret, user, code)
        answers = send_all(host, port, [c[1] for c in cases], NO_ANSWER_WAIT)
        out = [
            {"name": name, "octets": len(data), "reason": reason, "answered": a is not None}
            for (name, data, reason), a in zip(cases, answers)
        ]
        print(json.dumps({"cases": out}))
    elif cmd == "duplicates":
        wrong = sys.argv[7]
        two_names = request(secret, user, code, identifier=7, with_message_authenticator=False)
        two_names.AddAttribute("User-Name", "mallory")
        two_names.add_message_authenticator()
        two_passwords = request(secret, user, code, identifier=8, with_message_authenticator=False)
        two_passwords.AddAttribute("User-Password", two_passwords.PwCrypt(wrong))
        two_passwords.add_message_authenticator()
        reqs = [("duplicate_user_name", two_names), ("duplicate_user_password", two_passwords)]
        datagrams = [r.RequestPacket() for _, r in reqs]
        for (name, r), raw in zip(reqs, datagrams):
            back = packet.AuthPacket(secret=secret, dict=dictionary(), packet=raw)
            assert back.verify_message_authenticator(), name
        assert packet.AuthPacket(secret=secret, dict=dictionary(), packet=datagrams[0])[
            "User-Name"
        ] == [user, "mallory"]
        assert len(packet.AuthPacket(secret=secret, dict=dictionary(), packet=datagrams[1])[
            "User-Password"
        ]) == 2
        answers = send_all(host, port, datagrams, ANSWER_WAIT)
        out = []
        for (name, r), a in zip(reqs, answers):
            c, valid = verified(r, a) if a is not None else (None, False)
            out.append({"name": name, "answered": a is not None, "code": c, "valid": valid})
        print(json.dumps({"cases": out}))
    elif cmd == "good":
        client = Client(
            server=host, authport=port, secret=secret, dict=dictionary(),
            retries=1, timeout=ANSWER_WAIT, enforce_ma=True,
        )
        req = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=user)
        req["User-Password"] = req.PwCrypt(code)
        req["NAS-Identifier"] = "pyrad"
        req.add_message_authenticator()
        try:
            reply = client.SendPacket(req)
        except Timeout:
            print(json.dumps({"answered": False, "code": None, "valid": False}))
            return
        valid = req.VerifyReply(reply, reply.raw_packet, enforce_ma=True)
        print(json.dumps({"answered": True, "code": reply.code, "valid": bool(valid)}))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
