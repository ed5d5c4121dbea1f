#!/usr/bin/env python3
"""A RADIUS load generator for bench/radius (standard library only).

  radius_load.py --server HOST:PORT --secret SECRET --pairs FILE [--connections C]
                 [--duration S] [--once]

Reads "USERNAME CODE" lines from FILE and sends, from C UDP sockets at once, each with one
request in flight (as wrk's connections), Access-Requests in the order of the file: a
Message-Authenticator first (RFC 3579, as the server requires), User-Name, User-Password (the
code, hidden under a fresh random Request Authenticator, RFC 2865 §5.2) and NAS-Identifier.
Each request is built when it is sent, so no two are alike (a repeated one would be answered
from the server's duplicate cache).

Every answer is checked: its Identifier, its Response Authenticator and its
Message-Authenticator (a failure counts as "bad"). Accept counts as ok; a Reject as invalid
(wrong code), locked, or other, by its Reply-Message. A request unanswered after a second
counts as lost and the socket moves on.

Without --once the list starts over when it runs out, until --duration (wrong codes; a right
code sent again is a replay, counted by "wrapped"). With --once each pair is sent once: the
run ends when the list does or at --duration.

Prints one line:
  RESULT requests=… duration_s=… rps=… p50_ms=… p99_ms=… ok=… invalid=… locked=… other=…
         lost=… bad=… wrapped=…
"""

import argparse
import hashlib
import hmac
import os
import select
import socket
import struct
import time

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
USER_NAME, USER_PASSWORD, NAS_IDENTIFIER, MESSAGE_AUTHENTICATOR = 1, 2, 32, 80
LOST_AFTER = 1.0


def hide(password, secret, authenticator):
    """User-Password hiding (RFC 2865 §5.2)."""
    padded = password.ljust(max(16, -(-len(password) // 16) * 16), b"\0")
    out = b""
    last = authenticator
    for i in range(0, len(padded), 16):
        key = hashlib.md5(secret + last).digest()
        block = bytes(a ^ b for a, b in zip(padded[i:i + 16], key))
        out += block
        last = block
    return out


def attribute(ty, value):
    return bytes((ty, len(value) + 2)) + value


def build(identifier, user, code, secret):
    """An Access-Request and its Request Authenticator."""
    auth = os.urandom(16)
    attrs = (
        attribute(USER_NAME, user)
        + attribute(USER_PASSWORD, hide(code, secret, auth))
        + attribute(NAS_IDENTIFIER, b"bench")
    )
    length = 20 + 18 + len(attrs)
    head = struct.pack("!BBH", ACCESS_REQUEST, identifier, length) + auth
    zeroed = head + bytes((MESSAGE_AUTHENTICATOR, 18)) + b"\0" * 16 + attrs
    mac = hmac.new(secret, zeroed, hashlib.md5).digest()
    return head + bytes((MESSAGE_AUTHENTICATOR, 18)) + mac + attrs, auth


def answer_valid(answer, identifier, request_auth, secret):
    """Identifier, Response Authenticator and (required) Message-Authenticator of an answer."""
    if len(answer) < 20 or answer[1] != identifier:
        return False
    length = struct.unpack("!H", answer[2:4])[0]
    if length < 20 or length > len(answer):
        return False
    answer = answer[:length]
    expected = hashlib.md5(answer[:4] + request_auth + answer[20:] + secret).digest()
    if not hmac.compare_digest(expected, answer[4:20]):
        return False
    at, mac_at = 20, None
    while at + 2 <= length:
        ty, n = answer[at], answer[at + 1]
        if n < 2:
            return False
        if ty == MESSAGE_AUTHENTICATOR and n == 18:
            mac_at = at + 2
        at += n
    if mac_at is None:
        return False
    zeroed = answer[:4] + request_auth + answer[20:mac_at] + b"\0" * 16 + answer[mac_at + 16:]
    mac = hmac.new(secret, zeroed, hashlib.md5).digest()
    return hmac.compare_digest(mac, answer[mac_at:mac_at + 16])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--pairs", required=True)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--once", action="store_true")
    args = p.parse_args()
    host, _, port = args.server.rpartition(":")
    server = (host, int(port))
    secret = args.secret.encode()
    pairs = []
    with open(args.pairs) as f:
        for line in f:
            name, code = line.split()
            pairs.append((name.encode(), code.encode()))
    if not pairs:
        raise SystemExit(f"no pairs in {args.pairs}")

    socks = []
    poller = select.epoll()
    for _ in range(args.connections):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.connect(server)
        s.setblocking(False)
        socks.append(s)
        poller.register(s.fileno(), select.EPOLLIN)
    by_fd = {s.fileno(): s for s in socks}

    counts = dict(ok=0, invalid=0, locked=0, other=0, lost=0, bad=0, wrapped=0)
    latencies = []
    # Per socket: (identifier, request authenticator, time sent) of the request in flight.
    flight = {}
    next_pair = 0
    ident = {s.fileno(): 0 for s in socks}
    started = time.perf_counter()
    deadline = started + args.duration
    sending = True

    def send(fd):
        nonlocal next_pair, sending
        if not sending:
            return
        if next_pair == len(pairs):
            if args.once:
                sending = False
                return
            next_pair = 0
            counts["wrapped"] += 1
        user, code = pairs[next_pair]
        next_pair += 1
        ident[fd] = (ident[fd] + 1) & 0xFF
        datagram, auth = build(ident[fd], user, code, secret)
        flight[fd] = (ident[fd], auth, time.perf_counter())
        by_fd[fd].send(datagram)

    for s in socks:
        send(s.fileno())
    while flight:
        now = time.perf_counter()
        if sending and now >= deadline:
            sending = False
        for fd, _ in poller.poll(0.05):
            sock = by_fd[fd]
            try:
                answer = sock.recv(4096)
            except BlockingIOError:
                continue
            if fd not in flight:
                continue
            identifier, auth, sent_at = flight[fd]
            if not answer_valid(answer, identifier, auth, secret):
                counts["bad"] += 1
                continue
            latencies.append(time.perf_counter() - sent_at)
            del flight[fd]
            if answer[0] == ACCESS_ACCEPT:
                counts["ok"] += 1
            elif answer[0] == ACCESS_REJECT and b"did not match" in answer:
                counts["invalid"] += 1
            elif answer[0] == ACCESS_REJECT and b"Too many failed" in answer:
                counts["locked"] += 1
            else:
                counts["other"] += 1
            send(fd)
        now = time.perf_counter()
        for fd, (_, _, sent_at) in list(flight.items()):
            if now - sent_at > LOST_AFTER:
                counts["lost"] += 1
                del flight[fd]
                send(fd)
    elapsed = time.perf_counter() - started
    requests = len(latencies)
    latencies.sort()

    def pct(q):
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    print(
        f"RESULT requests={requests} duration_s={elapsed:.3f} rps={requests / elapsed:.1f} "
        f"p50_ms={pct(0.50):.3f} p99_ms={pct(0.99):.3f} ok={counts['ok']} "
        f"invalid={counts['invalid']} locked={counts['locked']} other={counts['other']} "
        f"lost={counts['lost']} bad={counts['bad']} wrapped={counts['wrapped']}"
    )


if __name__ == "__main__":
    main()
