"""A real SMTP server (aiosmtpd) on loopback for tests/delivery.rs.

Usage: smtp_server.py MODE [--cert PEM --key PEM] [--auth USER:PASSWORD]
  MODE  plain     no TLS at all (STARTTLS not offered)
        starttls  STARTTLS offered and required before anything else
        smtps     TLS from the first byte (implicit TLS)
With --auth, AUTH (PLAIN, LOGIN) is required before MAIL and checked against USER:PASSWORD.

Prints "READY <port>" once listening on 127.0.0.1 (a port the kernel chose), then one JSON line
per accepted message: {"mail_from", "rcpt_tos", "data", "tls", "auth_user"}.
"""

import argparse
import asyncio
import json
import logging
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": (
                session.auth_data.login.decode()
                if isinstance(session.auth_data, LoginPassword)
                else None
            ),
        }
        print(json.dumps(record), flush=True)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["plain", "starttls", "smtps"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth")
    args = parser.parse_args()
    # The tests provoke failed handshakes and AUTH without STARTTLS (implicit TLS) on purpose;
    # aiosmtpd's tracebacks and warnings about them would only be noise.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, _, password = args.auth.partition(":")
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd answers a failure with "535 5.7.8 Authentication
        # credentials invalid", as a real server does.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def factory():
        return SMTP(
            Handler(),
            hostname="smtp.test",
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            authenticator=authenticator if args.auth else None,
            auth_required=bool(args.auth),
            # Credentials only over TLS, as a real submission server; implicit TLS counts too.
            auth_require_tls=args.mode == "starttls",
        )

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(
            factory, sock=sock, ssl=context if args.mode == "smtps" else None
        )
    )
    print(f"READY {sock.getsockname()[1]}", flush=True)
    try:
        loop.run_until_complete(server.serve_forever())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
