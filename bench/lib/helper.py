#!/usr/bin/env python3
"""Helpers for bench/validate (standard library only).

  helper.py enrol  --url URL --token TOKEN --users N --out SECRETS [--connections C] [--prefix P]
      Enrols users P000001..PN through the JSON API v1: POST /api/v1/users, POST .../factors
      {kind: totp}, then POST .../factors/{id}/confirm with the code of the *previous* step (still
      inside the default window), so the steps the benchmark will use later stay fresh. Writes one
      line per user: "USERNAME SECRET CONFIRMED_STEP".

  helper.py codes --secrets SECRETS --kind right|wrong --threads T --out PREFIX
                  [--min-remaining S] [--horizon S]
      right: waits (when fewer than S seconds remain in the current 30 s step) for the next step,
             then writes every still-fresh (user, code) pair for the steps now-1, now and now+1
             (only steps above the one each factor was confirmed with), ordered by step and then
             user, so no factor ever sees an older step after a newer one.
      wrong: one code per user that matches none of the user's steps from now-3 to now+horizon/30+3
             (so no "wrong" code can be accepted by accident and burn a step).
      Users are split between wrk's threads by index (user i goes to PREFIX.(i % T + 1)), so a
      factor's codes are always sent in order by one thread. Prints "pairs=N steps=A..B" on stdout.

  helper.py unlock --url URL --token TOKEN --secrets SECRETS [--connections C]
      POST /api/v1/users/{u}/unlock for every user in SECRETS (clears failure counts and lockouts).

  helper.py gen --users N --csv FILE --out SECRETS [--prefix P]
      Makes N users' TOTP keys for `twofold import --format csv`: FILE gets a header and one
      line per user, "USERNAME,totp,SECRET" (160-bit random secrets, base32), SECRETS the same
      users in the format enrol writes, with confirmed step 0 (every step is fresh).

  codes and unlock take --sample K: only K users, spread evenly over SECRETS (so a bench with a
  million users needs neither a million codes computed in Python nor a million unlocks).

  helper.py totp SECRET [TIME]    one code (to cross-check against oathtool)
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.parse

PERIOD = 30


def b32decode(secret):
    s = secret.replace(" ", "").upper().rstrip("=")
    return base64.b32decode(s + "=" * (-len(s) % 8))


def hotp(key, counter, digits=6):
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


# --- A minimal HTTP/1.1 keep-alive client over asyncio --------------------------------------


class Conn:
    def __init__(self, host, port, token):
        self.host, self.port, self.token = host, port, token
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method, path, body=None):
        for attempt in range(3):
            try:
                if self.writer is None:
                    await self.open()
                return await self._request(method, path, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer = None
                if attempt == 2:
                    raise
                await asyncio.sleep(0.05)

    async def _request(self, method, path, body):
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        self.writer.write(head + data)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            payload = b"".join(parts)
        else:
            payload = await self.reader.readexactly(length or 0)
        if close:
            self.writer.close()
            self.writer = None
        return status, payload


async def enrol_all(args):
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname, url.port
    width = max(6, len(str(args.users)))
    queue = asyncio.Queue()
    for i in range(1, args.users + 1):
        queue.put_nowait(f"{args.prefix}{i:0{width}d}")
    results = {}
    started = time.monotonic()
    done = 0

    async def worker():
        nonlocal done
        conn = Conn(host, port, args.token)
        while True:
            try:
                name = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            status, body = await conn.request("POST", "/api/v1/users", {"username": name})
            if status not in (201, 409):
                raise SystemExit(f"create {name}: HTTP {status}: {body[:200]!r}")
            if status == 409:
                # From an earlier, interrupted run; it may already hold factors we do not know.
                raise SystemExit(f"user {name} exists already; use a fresh database")
            status, body = await conn.request(
                "POST", f"/api/v1/users/{name}/factors", {"kind": "totp"}
            )
            if status != 201:
                raise SystemExit(f"enrol {name}: HTTP {status}: {body[:200]!r}")
            factor = json.loads(body)
            secret = factor["secret"]
            key = b32decode(secret)
            # The previous step's code: accepted inside the default ±1 window, and it leaves
            # the current and next steps fresh for the benchmark.
            step = int(time.time()) // PERIOD - 1
            status, body = await conn.request(
                "POST",
                f"/api/v1/users/{name}/factors/{factor['id']}/confirm",
                {"code": hotp(key, step)},
            )
            if status == 422:
                # The step rolled over between computing and checking: use the current one.
                step = int(time.time()) // PERIOD
                status, body = await conn.request(
                    "POST",
                    f"/api/v1/users/{name}/factors/{factor['id']}/confirm",
                    {"code": hotp(key, step)},
                )
            if status != 200:
                raise SystemExit(f"confirm {name}: HTTP {status}: {body[:200]!r}")
            results[name] = (secret, step)
            done += 1
            if args.progress and done % args.progress == 0:
                rate = done / (time.monotonic() - started)
                print(f"  enrolled {done}/{args.users} ({rate:.0f} users/s)", file=sys.stderr)

    await asyncio.gather(*(worker() for _ in range(args.connections)))
    with open(args.out, "w") as f:
        for i in range(1, args.users + 1):
            name = f"{args.prefix}{i:0{width}d}"
            secret, step = results[name]
            f.write(f"{name} {secret} {step}\n")
    elapsed = time.monotonic() - started
    print(f"enrolled={args.users} seconds={elapsed:.1f} rate={args.users / elapsed:.0f}")


async def unlock_all(args):
    url = urllib.parse.urlsplit(args.url)
    names = [u[0] for u in sample(read_secrets(args.secrets), args.sample)]
    queue = asyncio.Queue()
    for name in names:
        queue.put_nowait(name)

    async def worker():
        conn = Conn(url.hostname, url.port, args.token)
        while True:
            try:
                name = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            status, body = await conn.request("POST", f"/api/v1/users/{name}/unlock")
            if status != 204:
                raise SystemExit(f"unlock {name}: HTTP {status}: {body[:200]!r}")

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(args.connections)))
    print(f"unlocked={len(names)} seconds={time.monotonic() - started:.1f}")


def read_secrets(path):
    users = []
    with open(path) as f:
        for line in f:
            name, secret, step = line.split()
            users.append((name, b32decode(secret), int(step)))
    return users


def sample(users, k):
    """k users spread evenly over the list (all of them when k is 0 or not smaller)."""
    if not k or k >= len(users):
        return users
    step = len(users) / k
    return [users[int(i * step)] for i in range(k)]


def gen(args):
    import os

    width = max(6, len(str(args.users)))
    with open(args.csv, "w") as csv, open(args.out, "w") as out:
        csv.write("username,kind,secret,algorithm,digits,period,counter\n")
        for i in range(1, args.users + 1):
            name = f"{args.prefix}{i:0{width}d}"
            secret = base64.b32encode(os.urandom(20)).decode()
            csv.write(f"{name},totp,{secret}\n")
            out.write(f"{name} {secret} 0\n")
    print(f"users={args.users}")


def write_split(prefix, threads, rows):
    """rows: (user_index, username, code) in the order they must be sent."""
    files = [open(f"{prefix}.{t + 1}", "w") for t in range(threads)]
    counts = [0] * threads
    for idx, name, code in rows:
        t = idx % threads
        files[t].write(f"{name} {code}\n")
        counts[t] += 1
    for f in files:
        f.close()
    if min(counts) == 0:
        raise SystemExit("some wrk thread has no pairs: use more users or fewer threads")
    return sum(counts)


def codes(args):
    users = sample(read_secrets(args.secrets), args.sample)
    if args.kind == "right":
        remaining = PERIOD - time.time() % PERIOD
        if remaining < args.min_remaining:
            time.sleep(remaining + 0.05)
        now_step = int(time.time()) // PERIOD
        steps = [now_step - 1, now_step, now_step + 1]
        rows = []
        for step in steps:
            for idx, (name, key, confirmed) in enumerate(users):
                if step > confirmed:
                    rows.append((idx, name, hotp(key, step)))
        n = write_split(args.out, args.threads, rows)
        left = PERIOD - time.time() % PERIOD
        print(f"pairs={n} steps={steps[0]}..{steps[-1]} step_seconds_left={left:.1f}")
    else:
        now_step = int(time.time()) // PERIOD
        span = range(now_step - 3, now_step + args.horizon // PERIOD + 4)
        rows = []
        for idx, (name, key, _) in enumerate(users):
            taken = {hotp(key, s) for s in span}
            candidate = int(hotp(key, now_step))
            while True:
                candidate = (candidate + 500_000 + idx) % 1_000_000
                code = f"{candidate:06d}"
                if code not in taken:
                    break
            rows.append((idx, name, code))
        n = write_split(args.out, args.threads, rows)
        print(f"pairs={n} steps={span.start}..{span.stop - 1}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("enrol")
    e.add_argument("--url", required=True)
    e.add_argument("--token", required=True)
    e.add_argument("--users", type=int, required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--connections", type=int, default=8)
    e.add_argument("--prefix", default="u")
    e.add_argument("--progress", type=int, default=0)
    c = sub.add_parser("codes")
    c.add_argument("--secrets", required=True)
    c.add_argument("--kind", choices=["right", "wrong"], required=True)
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--out", required=True)
    c.add_argument("--min-remaining", type=float, default=15)
    c.add_argument("--horizon", type=int, default=120)
    c.add_argument("--sample", type=int, default=0)
    u = sub.add_parser("unlock")
    u.add_argument("--url", required=True)
    u.add_argument("--token", required=True)
    u.add_argument("--secrets", required=True)
    u.add_argument("--connections", type=int, default=8)
    u.add_argument("--sample", type=int, default=0)
    g = sub.add_parser("gen")
    g.add_argument("--users", type=int, required=True)
    g.add_argument("--csv", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--prefix", default="u")
    t = sub.add_parser("totp")
    t.add_argument("secret")
    t.add_argument("time", nargs="?", type=int)
    args = p.parse_args()
    if args.cmd == "enrol":
        asyncio.run(enrol_all(args))
    elif args.cmd == "unlock":
        asyncio.run(unlock_all(args))
    elif args.cmd == "codes":
        codes(args)
    elif args.cmd == "gen":
        gen(args)
    else:
        at = int(time.time()) if args.time is None else args.time
        print(hotp(b32decode(args.secret), at // PERIOD))


if __name__ == "__main__":
    main()
