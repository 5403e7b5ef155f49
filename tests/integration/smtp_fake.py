#!/usr/bin/env python3
"""A local SMTP server for gong's tests (127.0.0.1 only, standard library).

Speaks enough of RFC 5321 for libcurl: EHLO/HELO, optional AUTH PLAIN and
LOGIN (--auth USER:PASS; then MAIL before a good AUTH is refused 530),
MAIL, RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT, and STARTTLS when
given --tls-cert and --tls-key (then AUTH and MAIL before it are refused
530, and the session starts again after it).

Every accepted message is one JSON line in --log:
  {"mail_from": "...", "rcpt_to": ["..."], "auth": "USER" or null,
   "data": "<the raw message, CRLF, as received after unstuffing>"}
Every reply it gives that is not 2xx/3xx goes to --requests as
  {"command": "RCPT", "arg": "...", "reply": "550 ..."}.

Errors on demand: --control FILE holds JSON, read for every command:
  {"greeting": [421, "text"],          answer the connection with it
   "auth": [535, "text"],              answer every AUTH with it
   "mail": [451, "text"],              answer MAIL FROM with it
   "rcpt": {"ADDR or *": [550, "text"]},  answer RCPT TO for ADDR
   "data": [554, "text"],              answer the end of DATA with it
   "delay": 2.5}                       seconds before the DATA answer

Prints "PORT n" on stdout (and writes n to --port-file) once listening.
"""
import argparse
import asyncio
import base64
import json
import os
import signal
import ssl
import sys


def load_control(path):
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Session:
    def __init__(self, args, reader, writer):
        self.args = args
        self.r = reader
        self.w = writer
        self.authed = None
        self.tls = False
        self.reset()

    def reset(self):
        self.mail_from = None
        self.rcpt = []

    def ctl(self):
        return load_control(self.args.control)

    async def reply(self, line, command="", arg=""):
        self.w.write((line + "\r\n").encode("utf-8"))
        await self.w.drain()
        if line[:1] in ("4", "5") and self.args.requests:
            with open(self.args.requests, "a", encoding="utf-8") as f:
                f.write(json.dumps({"command": command, "arg": arg,
                                    "reply": line},
                                   ensure_ascii=False) + "\n")

    async def readline(self):
        line = await self.r.readline()
        if not line:
            raise ConnectionError("closed")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    async def auth(self, arg):
        c = self.ctl()
        parts = arg.split(" ", 1)
        mech = parts[0].upper()
        user = password = None
        if mech == "PLAIN":
            blob = parts[1] if len(parts) > 1 else None
            if blob is None:
                await self.reply("334 ")
                blob = await self.readline()
            try:
                _, user, password = base64.b64decode(blob).decode(
                    "utf-8").split("\0")
            except ValueError:
                await self.reply("501 5.5.2 bad PLAIN", "AUTH", arg)
                return
        elif mech == "LOGIN":
            if len(parts) > 1:
                user = base64.b64decode(parts[1]).decode("utf-8", "replace")
            else:
                await self.reply("334 VXNlcm5hbWU6")
                user = base64.b64decode(await self.readline()).decode(
                    "utf-8", "replace")
            await self.reply("334 UGFzc3dvcmQ6")
            password = base64.b64decode(await self.readline()).decode(
                "utf-8", "replace")
        else:
            await self.reply("504 5.5.4 mechanism not supported", "AUTH",
                             arg)
            return
        if "auth" in c:
            code, text = c["auth"]
            await self.reply("%d %s" % (code, text), "AUTH", mech)
            return
        if self.args.auth and "%s:%s" % (user, password) == self.args.auth:
            self.authed = user
            await self.reply("235 2.7.0 Authentication successful")
        else:
            await self.reply("535 5.7.8 Authentication credentials invalid",
                             "AUTH", mech)

    async def data(self):
        c = self.ctl()
        if "data_start" in c:
            code, text = c["data_start"]
            await self.reply("%d %s" % (code, text), "DATA", "")
            return
        await self.reply("354 End data with <CR><LF>.<CR><LF>")
        lines = []
        while True:
            raw = await self.r.readline()
            if not raw:
                raise ConnectionError("closed in DATA")
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            lines.append(raw)
        c = self.ctl()
        if c.get("delay"):
            await asyncio.sleep(float(c["delay"]))
        if "data" in c:
            code, text = c["data"]
            await self.reply("%d %s" % (code, text), "DATA", "")
        else:
            rec = {"mail_from": self.mail_from, "rcpt_to": self.rcpt,
                   "auth": self.authed, "tls": self.tls,
                   "data": b"".join(lines).decode("utf-8", "replace")}
            with open(self.args.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.args.count += 1
            await self.reply("250 2.0.0 Ok: queued as FAKE%04d"
                             % self.args.count)
        self.reset()

    async def run(self):
        c = self.ctl()
        if "greeting" in c:
            code, text = c["greeting"]
            await self.reply("%d %s" % (code, text), "CONNECT", "")
            if code >= 400:
                return
        else:
            await self.reply("220 smtp-fake.test ESMTP gong test")
        while True:
            line = await self.readline()
            cmd, _, arg = line.partition(" ")
            cmd = cmd.upper()
            if cmd in ("EHLO", "HELO"):
                self.reset()
                if cmd == "HELO":
                    await self.reply("250 smtp-fake.test")
                    continue
                ext = ["smtp-fake.test", "8BITMIME", "SIZE 10485760"]
                if self.args.sslctx is not None and not self.tls:
                    ext.append("STARTTLS")
                if self.args.auth:
                    ext.append("AUTH " + self.args.mechs)
                for e in ext[:-1]:
                    self.w.write(("250-%s\r\n" % e).encode())
                await self.reply("250 " + ext[-1])
            elif cmd == "STARTTLS" and self.args.sslctx is not None \
                    and not self.tls:
                await self.reply("220 2.0.0 Ready to start TLS")
                await self.w.start_tls(self.args.sslctx)
                self.tls = True
                self.authed = None
                self.reset()
            elif cmd in ("AUTH", "MAIL") and self.args.sslctx is not None \
                    and not self.tls:
                await self.reply("530 5.7.0 Must issue a STARTTLS command "
                                 "first", cmd, arg)
            elif cmd == "AUTH":
                await self.auth(arg)
            elif cmd == "MAIL":
                c = self.ctl()
                if self.args.auth and not self.authed:
                    await self.reply("530 5.7.0 Authentication required",
                                     cmd, arg)
                elif "mail" in c:
                    code, text = c["mail"]
                    await self.reply("%d %s" % (code, text), cmd, arg)
                else:
                    self.reset()
                    self.mail_from = arg.split(":", 1)[1].strip() \
                        .split(" ")[0].strip("<>")
                    await self.reply("250 2.1.0 Ok")
            elif cmd == "RCPT":
                c = self.ctl()
                addr = arg.split(":", 1)[1].strip().split(" ")[0] \
                    .strip("<>")
                rules = c.get("rcpt", {})
                rule = rules.get(addr, rules.get("*"))
                if self.mail_from is None:
                    await self.reply("503 5.5.1 need MAIL", cmd, arg)
                elif rule:
                    await self.reply("%d %s" % (rule[0], rule[1]), cmd, arg)
                else:
                    self.rcpt.append(addr)
                    await self.reply("250 2.1.5 Ok")
            elif cmd == "DATA":
                if not self.rcpt:
                    await self.reply("503 5.5.1 need RCPT", cmd, arg)
                else:
                    await self.data()
            elif cmd == "RSET":
                self.reset()
                await self.reply("250 2.0.0 Ok")
            elif cmd == "NOOP":
                await self.reply("250 2.0.0 Ok")
            elif cmd == "QUIT":
                await self.reply("221 2.0.0 Bye")
                return
            else:
                await self.reply("502 5.5.2 command not recognized", cmd,
                                 arg)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--control")
    ap.add_argument("--auth", help="USER:PASS; AUTH is then required")
    ap.add_argument("--mechs", default="PLAIN LOGIN")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    args.count = 0
    args.sslctx = None
    if args.tls_cert:
        args.sslctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        args.sslctx.load_cert_chain(args.tls_cert, args.tls_key)

    async def handle(reader, writer):
        try:
            await Session(args, reader, writer).run()
        except (ConnectionError, asyncio.IncompleteReadError, IndexError,
                ssl.SSLError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print("PORT %d" % port, flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, lambda: stop.done() or stop.set_result(1))
    async with server:
        await stop


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
