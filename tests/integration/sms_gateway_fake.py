#!/usr/bin/env python3
"""A batch SMS gateway fake for gong's sms_http driver (127.0.0.1 only).

    sms_gateway_fake.py [--port N] --log FILE [--requests FILE]
                        [--control FILE]

Listens on 127.0.0.1:N (0: a free port) and prints "PORT <n>" on its
first line.  HTTP/1.1 with keep-alive, one thread per connection.

POST (any path) with a JSON or form body carrying
  mobile   numbers separated by ","   (or PhoneNumbers)
  content  the text                   (or TemplateParam {"content": ...})
  ids      client message ids, in the numbers' order (or OutId)
  callback optional: where to POST receipts ([{"id","status"}])
answers 200 {"code":"OK","msgid":"gw-N"} (and Alibaba Cloud SMS's
"Code", "BizId", "Message" beside them) and appends one JSON line per
number to --log: {"t": unix time, "to", "text", "id"}.  A number that is
not 11 digits starting with 1 makes the whole request answer
{"code":"BAD_NUMBER"} (nothing logged), as gateways refuse a batch.

--requests gets one line per request, whatever the answer:
{"t", "status", "code", "ids"}.

--control names a JSON file read again at every request (absent: all
normal), with any of:
  "down_until": t          answer 503 until unix time t
  "busy_until": t          answer 429 with Retry-After until t
  "retry_after": s         the Retry-After of 429 answers (default 1)
  "too_fast_until": t      answer 200 {"code":"TOO_FAST"} until t
  "delay": s               wait s seconds before answering (slow gateway)
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
# The same answers in Alibaba Cloud SMS's words (Code, BizId, Message).
ALIYUN = {"BAD_NUMBER": "isv.MOBILE_NUMBER_ILLEGAL",
          "TOO_FAST": "isv.BUSINESS_LIMIT_CONTROL"}
STATE = {"n": 0}


def control(path):
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def append(path, *objs):
    if not path:
        return
    line = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)
    with LOCK:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()


def post_receipts(url, ids):
    body = json.dumps([{"id": i, "status": "DELIVERED"} for i in ids])
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type":
                                          "application/json"})
    for _ in range(3):
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                r.read()
                return
        except OSError:
            time.sleep(0.5)


def parse(body, ctype):
    if "json" in ctype:
        d = json.loads(body.decode("utf-8"))
    else:
        d = {k: v[0] for k, v in urllib.parse.parse_qs(
            body.decode("utf-8"), keep_blank_values=True).items()}
    mobile = d.get("mobile", d.get("PhoneNumbers", ""))
    text = d.get("content")
    if text is None:
        tp = d.get("TemplateParam", "{}")
        tp = json.loads(tp) if isinstance(tp, str) else tp
        text = tp.get("content", "")
    ids = d.get("ids", d.get("OutId", ""))
    nums = [x for x in str(mobile).split(",") if x]
    idl = [x for x in str(ids).split(",") if x]
    return nums, text, idl, d.get("callback")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the
    # second waits for the client's delayed ACK (40 ms a request).
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def answer(self, status, obj, headers=()):
        b = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        c = control(self.server.control)
        now = time.time()
        if c.get("delay"):
            time.sleep(float(c["delay"]))
        try:
            nums, text, ids, cb = parse(body,
                                        self.headers.get("Content-Type", ""))
        except (ValueError, AttributeError):
            self.answer(400, {"code": "BAD_REQUEST"})
            return
        status, code, hdrs = 200, "OK", []
        if now < float(c.get("down_until", 0)):
            status, code = 503, "DOWN"
        elif now < float(c.get("busy_until", 0)):
            status, code = 429, "BUSY"
            hdrs = [("Retry-After", str(int(c.get("retry_after", 1))))]
        elif now < float(c.get("too_fast_until", 0)):
            code = "TOO_FAST"
        elif any(len(x) != 11 or not x.isdigit() or x[0] != "1"
                 for x in nums) or not nums:
            code = "BAD_NUMBER"
        append(self.server.requests, {"t": now, "status": status,
                                      "code": code, "ids": ids})
        ali = ALIYUN.get(code, code)
        if code != "OK":
            self.answer(status, {"code": code, "msg": code.lower(),
                                 "Code": ali, "Message": code.lower()},
                        hdrs)
            return
        t = time.time()
        append(self.server.log, *[{"t": t, "to": num, "text": text,
                                   "id": ids[i] if i < len(ids) else ""}
                                  for i, num in enumerate(nums)])
        with LOCK:
            STATE["n"] += 1
            gw = "gw-%d" % STATE["n"]
        self.answer(200, {"code": "OK", "msgid": gw, "Code": "OK",
                          "BizId": gw, "Message": "OK"})
        if cb and ids:
            threading.Thread(target=post_receipts, args=(cb, ids),
                             daemon=True).start()

    do_PUT = do_POST


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--control")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.log, srv.requests, srv.control = a.log, a.requests, a.control
    print("PORT %d" % srv.server_address[1], flush=True)
    # Stop with the parent (a test killed with -9 leaves no fake behind).
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
