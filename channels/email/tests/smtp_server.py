#!/usr/bin/env python3
"""A real SMTP server for the email channel's tests, built on aiosmtpd.

Needs `python3 -m pip install aiosmtpd`. Listens on 127.0.0.1; with `--port 0` (the
default) the first line on stdout is the chosen port.

Each accepted message is written to MAILDIR/N.eml (raw, as received) and MAILDIR/N.json
(what a mail client shows: decoded headers and parts, read by Python's `email` package,
plus the envelope and the client's port, which tells connections apart).
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0, help="0: pick one and print it first")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"), help="offer and require STARTTLS")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="implicit TLS from the first byte")
    p.add_argument("--auth", metavar="USER:PASS", help="require AUTH with these credentials")
    p.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDRESS",
                   help="answer RCPT TO:<ADDRESS> with 550 5.1.1")
    p.add_argument("--tempfail-once", action="store_true",
                   help="answer the first RCPT with 451 4.3.0, then accept")
    p.add_argument("--maildir", required=True, help="where received messages are written")
    return p.parse_args()


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def summary(raw: bytes, envelope, peer) -> dict:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "text": part.get_content(),
        })
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": envelope.rcpt_tos,
        "peer_port": peer[1] if peer else None,
        "content_type": msg.get_content_type(),
        "headers": {name: str(value) for name, value in msg.items()},
        "parts": parts,
    }


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.tempfailed = False
        os.makedirs(args.maildir, exist_ok=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.tempfail_once and not self.tempfailed:
            self.tempfailed = True
            return "451 4.3.0 Temporary failure, try again later"
        if address.lower() in (a.lower() for a in self.args.reject_rcpt):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        base = os.path.join(self.args.maildir, str(self.count))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(raw)
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(summary(raw, envelope, session.peer), f, ensure_ascii=False, indent=1)
        # The .json appears last and atomically: a reader that sees it sees both files.
        os.replace(base + ".eml.tmp", base + ".eml")
        os.replace(base + ".json.tmp", base + ".json")
        return f"250 2.0.0 Ok: queued as {self.count}"


def authenticator(expected):
    user, _, password = expected.partition(":")

    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        # handled=False: aiosmtpd itself answers a failure with "535 5.7.8 ...".
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    args = parse_args()
    # Keep stderr for real problems (the tests print it when the server misbehaves).
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    handler = Handler(args)
    options = {"decode_data": False, "hostname": "localhost", "ident": "rappel test SMTP"}
    if args.starttls:
        options["tls_context"] = tls_context(*args.starttls)
        options["require_starttls"] = True
    if args.auth:
        options["authenticator"] = authenticator(args.auth)
        options["auth_required"] = True
        # Implicit TLS is already encrypted; aiosmtpd only knows about STARTTLS.
        options["auth_require_tls"] = not args.tls
    implicit = tls_context(*args.tls) if args.tls else None

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **options), host="127.0.0.1", port=args.port, ssl=implicit
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
