#!/usr/bin/env python3
"""A tiny HTTP server for the feed tests: serves files of a directory
with ETag and Last-Modified, answers 304 to If-None-Match /
If-Modified-Since, logs every request ("GET /path STATUS") to a file,
and misbehaves for the paths listed in a control file (re-read on every
request) so that a test can break and mend an entry while gongd polls:
"500 /path" answers 500, "partial /path" promises more bytes than it
sends and closes, "slow /path SECONDS" waits before answering.  Listens on 127.0.0.1, on a free port that it
writes to --port-file.

    feed_server.py --root DIR --log FILE --port-file FILE [--control FILE]
"""
import argparse
import email.utils
import hashlib
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

ARGS = None
LOCK = threading.Lock()


def log(line):
    with LOCK:
        with open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def trouble(path):
    """(what, arg) for path from the control file, or (None, None)."""
    if not ARGS.control or not os.path.exists(ARGS.control):
        return None, None
    with open(ARGS.control, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1] == path:
                return parts[0], (parts[2] if len(parts) > 2 else None)
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, body=b"", headers=None):
        try:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            log("%s %s %d aborted" % (self.command, self.path, status))
            self.close_connection = True
            return
        log("%s %s %d" % (self.command, self.path, status))

    def do_GET(self):
        path = unquote(urlsplit(self.path).path)
        what, arg = trouble(path)
        if what == "500":
            return self.reply(500, b"broken on purpose\n")
        if what == "slow":
            time.sleep(float(arg))
        full = os.path.realpath(os.path.join(ARGS.root, path.lstrip("/")))
        root = os.path.realpath(ARGS.root)
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return self.reply(404, b"not found\n")
        with open(full, "rb") as f:
            body = f.read()
        mtime = int(os.stat(full).st_mtime)
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        lastmod = email.utils.formatdate(mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": lastmod}
        if path.endswith(".atom"):
            headers["Content-Type"] = "application/atom+xml"
        elif path.endswith(".xml"):
            headers["Content-Type"] = "application/cap+xml"
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            if etag in tags or "*" in tags:
                return self.reply(304, headers=headers)
        elif ims is not None:
            try:
                t = email.utils.parsedate_to_datetime(ims).timestamp()
                if mtime <= t:
                    return self.reply(304, headers=headers)
            except (TypeError, ValueError):
                pass
        if what == "partial":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            log("%s %s partial" % (self.command, self.path))
            return None
        return self.reply(200, body, headers)

    do_HEAD = do_GET


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--control")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
