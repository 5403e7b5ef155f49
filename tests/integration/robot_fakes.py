#!/usr/bin/env python3
"""Fakes of the messaging-app robots for gong's webhook driver (127.0.0.1).

    robot_fakes.py [--port N] --log FILE [--requests FILE] [--control FILE]
                   [--secret S] [--keys K1,K2|*] [--bot-token T]

Listens on 127.0.0.1:N (0: a free port), prints "PORT <n>" on its first
line.  One server, one path per flavour, each checking what the real
service checks and answering in its words:

  POST /dingtalk/robot/send?access_token=K[&timestamp=MS&sign=B64]
       access_token one of --keys (else errcode 300001); with --secret,
       timestamp (ms) within one hour of now and sign = base64(HMAC-SHA256
       (secret, "timestamp\\nsecret")) (else errcode 310000); body
       {"msgtype":"text","text":{"content":non-empty}} (else 40035);
       "at".atMobiles, if any, a list of strings.  OK: errcode 0.
  POST /wecom/cgi-bin/webhook/send?key=K
       key one of --keys (else 93000); msgtype "text" (else 40008),
       text.content non-empty, at most 2048 bytes (else 44004 / 45002);
       text.mentioned_mobile_list, if any, a list of strings (else 40058).
  POST /feishu/open-apis/bot/v2/hook/K
       K one of --keys (else code 19001); with --secret, body "timestamp"
       (s, as a string) within one hour and "sign" = base64(HMAC-SHA256(
       key "timestamp\\nsecret", empty message)) (else 19021); msg_type
       "text" and content.text non-empty (else 19001).
  POST /bot<token>/sendMessage
       token == --bot-token (else HTTP 401 {"ok":false,"error_code":401,
       "description":"Unauthorized"}); chat_id an integer or a string of
       one, or @name (else 400 "Bad Request: chat not found"); text
       non-empty (400 "message text is empty");
       reply_markup.inline_keyboard[0][0] with "text" and "callback_data"
       (1 to 64 bytes) (else 400 "BUTTON_DATA_INVALID").  OK:
       {"ok":true,"result":{"message_id":n,...}}.
  POST /bot<token>/answerCallbackQuery
       callback_query_id non-empty; logged with "kind":"answer".
  POST /slack/services/T/B/K     K one of --keys (else 404 no_service);
                                body {"text": non-empty}: 200 "ok".
  POST /json/<anything>         any JSON object: 200 {"ok":true}.

Every accepted message is appended to --log as one JSON line:
{"t": unix time (float), "flavor", "key", "to" (chat id, mentions),
"text", "callback_data", "body"}.  --requests gets one line per request
whatever the answer: {"t", "flavor", "status", "code"}.

--control names a JSON file read at every request (absent: all normal):
  "too_fast": N      the next N message requests get the flavour's "too
                     fast" answer (DingTalk 130101, WeCom 45009, Feishu
                     9499, Telegram and Slack 429 with retry_after /
                     Retry-After); the fake counts N down in the file
  "retry_after": s   Telegram's parameters.retry_after and Slack's
                     Retry-After (default 1)
  "down": N          the next N requests get 503
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"msg": 0}
ARGS = None


def append(path, obj):
    if not path:
        return
    with LOCK:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
            f.flush()


def take(what):
    """Count one of the control file's "what" down; True if it was > 0."""
    if not ARGS.control:
        return False, {}
    with LOCK:
        try:
            with open(ARGS.control, encoding="utf-8") as f:
                ctl = json.load(f)
        except (OSError, ValueError):
            return False, {}
        n = ctl.get(what, 0)
        if not isinstance(n, int) or n <= 0:
            return False, ctl
        ctl[what] = n - 1
        tmp = ARGS.control + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(ctl, f)
        os.replace(tmp, ARGS.control)
        return True, ctl


def key_ok(k):
    return ARGS.keys == "*" or k in ARGS.keys.split(",")


def sign_of(key, msg):
    return base64.b64encode(hmac.new(key.encode(), msg.encode(),
                                     hashlib.sha256).digest()).decode()


def fresh(ts_s):
    return abs(time.time() - ts_s) <= 3600


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # a client that shut down with a keep-alive connection

    def reply(self, status, obj, flavor, code=None, headers=None):
        body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        ctype = ("application/json" if not isinstance(obj, (bytes, str))
                 else "text/plain")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        append(ARGS.requests, {"t": time.time(), "flavor": flavor,
                               "status": status, "code": code})

    def accepted(self, flavor, key, text, body, to=None, cb=None):
        append(ARGS.log, {"t": time.time(), "flavor": flavor, "key": key,
                          "to": to, "text": text, "callback_data": cb,
                          "body": body})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n)
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        path = u.path
        if path.startswith("/dingtalk/"):
            flavor = "dingtalk"
        elif path.startswith("/wecom/"):
            flavor = "wecom"
        elif path.startswith("/feishu/"):
            flavor = "feishu"
        elif path.startswith("/bot"):
            flavor = "telegram"
        elif path.startswith("/slack/"):
            flavor = "slack"
        elif path.startswith("/json/"):
            flavor = "json"
        else:
            return self.reply(404, "no such robot", "?", 404)
        down, _ = take("down")
        if down:
            return self.reply(503, "down for a while", flavor, 503)
        getattr(self, "h_" + flavor)(path, q, body)

    # --------------------------------------------------------------
    def h_dingtalk(self, path, q, body):
        def err(c, m):
            return self.reply(200, {"errcode": c, "errmsg": m}, "dingtalk",
                              c)
        if path != "/dingtalk/robot/send":
            return self.reply(404, "not found", "dingtalk", 404)
        tok = q.get("access_token", [""])[0]
        if not key_ok(tok):
            return err(300001, "token is not exist")
        if ARGS.secret:
            ts = q.get("timestamp", [""])[0]
            sg = q.get("sign", [""])[0]
            if not ts.isdigit() or not fresh(int(ts) / 1000.0):
                return err(310000, "sign not match, timestamp is "
                           "invalid or expired")
            want = sign_of(ARGS.secret, ts + "\n" + ARGS.secret)
            if not hmac.compare_digest(sg, want):
                return err(310000, "sign not match, more: "
                           "[https://ding-doc.dingtalk.com/doc#/serverapi2/"
                           "qf2nxq]")
        if (not isinstance(body, dict) or body.get("msgtype") != "text" or
                not isinstance(body.get("text"), dict) or
                not isinstance(body["text"].get("content"), str) or
                not body["text"]["content"]):
            return err(40035, "缺少参数 json")
        at = body.get("at", {})
        mobiles = at.get("atMobiles", []) if isinstance(at, dict) else None
        if not isinstance(mobiles, list) or not all(
                isinstance(m, str) for m in mobiles):
            return err(40035, "缺少参数 at")
        fast, _ = take("too_fast")
        if fast:
            return err(130101, "send too fast, exceed 20 times per minute")
        self.accepted("dingtalk", tok, body["text"]["content"], body,
                      to=mobiles or None)
        return err(0, "ok")

    def h_wecom(self, path, q, body):
        def err(c, m):
            return self.reply(200, {"errcode": c, "errmsg": m}, "wecom", c)
        if path != "/wecom/cgi-bin/webhook/send":
            return self.reply(404, "not found", "wecom", 404)
        key = q.get("key", [""])[0]
        if not key_ok(key):
            return err(93000, "invalid webhook url, hint: [1] from ip: "
                       "127.0.0.1")
        if not isinstance(body, dict) or body.get("msgtype") != "text":
            return err(40008, "invalid message type")
        t = body.get("text")
        if (not isinstance(t, dict) or not isinstance(t.get("content"), str)
                or not t["content"]):
            return err(44004, "empty content")
        if len(t["content"].encode()) > 2048:
            return err(45002, "content exceed max length")
        mob = t.get("mentioned_mobile_list", [])
        if not isinstance(mob, list) or not all(isinstance(m, str)
                                                for m in mob):
            return err(40058, "invalid mentioned_mobile_list")
        fast, _ = take("too_fast")
        if fast:
            return err(45009, "api freq out of limit")
        self.accepted("wecom", key, t["content"], body, to=mob or None)
        return err(0, "ok")

    def h_feishu(self, path, q, body):
        def err(c, m):
            return self.reply(200, {"code": c, "msg": m}, "feishu", c)
        pre = "/feishu/open-apis/bot/v2/hook/"
        if not path.startswith(pre):
            return self.reply(404, "not found", "feishu", 404)
        key = path[len(pre):]
        if not key_ok(key):
            return err(19001, "param invalid: incoming webhook access "
                       "token invalid")
        if not isinstance(body, dict):
            return err(9499, "Bad Request")
        if ARGS.secret:
            ts = body.get("timestamp")
            sg = body.get("sign")
            if (not isinstance(ts, str) or not ts.isdigit() or
                    not fresh(int(ts)) or not isinstance(sg, str) or
                    not hmac.compare_digest(
                        sg, sign_of(ts + "\n" + ARGS.secret, ""))):
                return err(19021, "sign match fail or timestamp is not "
                           "within one hour from current time")
        c = body.get("content")
        if (body.get("msg_type") != "text" or not isinstance(c, dict) or
                not isinstance(c.get("text"), str) or not c["text"]):
            return err(19001, "param invalid: msg_type or content")
        fast, _ = take("too_fast")
        if fast:
            return err(9499, "too many request")
        self.accepted("feishu", key, c["text"], body)
        return self.reply(200, {"StatusCode": 0, "StatusMessage": "success",
                                "code": 0, "msg": "success", "data": {}},
                          "feishu", 0)

    def h_telegram(self, path, q, body):
        m = re.fullmatch(r"/bot([^/]+)/(sendMessage|answerCallbackQuery)",
                         path)

        def err(status, desc, extra=None):
            o = {"ok": False, "error_code": status, "description": desc}
            if extra:
                o.update(extra)
            return self.reply(status, o, "telegram", status)
        if m is None:
            return err(404, "Not Found")
        if m.group(1) != ARGS.bot_token:
            return err(401, "Unauthorized")
        if not isinstance(body, dict):
            return err(400, "Bad Request: message text is empty")
        if m.group(2) == "answerCallbackQuery":
            cq = body.get("callback_query_id")
            if not isinstance(cq, str) or not cq:
                return err(400, "Bad Request: query is too old")
            append(ARGS.log, {"t": time.time(), "flavor": "telegram",
                              "kind": "answer", "callback_query_id": cq,
                              "text": body.get("text")})
            return self.reply(200, {"ok": True, "result": True},
                              "telegram", 0)
        chat = body.get("chat_id")
        if isinstance(chat, int):
            chat = str(chat)
        if (not isinstance(chat, str) or
                not re.fullmatch(r"-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32}",
                                 chat)):
            return err(400, "Bad Request: chat not found")
        text = body.get("text")
        if not isinstance(text, str) or not text:
            return err(400, "Bad Request: message text is empty")
        try:
            btn = body["reply_markup"]["inline_keyboard"][0][0]
            cb = btn["callback_data"]
            ok = (isinstance(btn.get("text"), str) and btn["text"] and
                  isinstance(cb, str) and 1 <= len(cb.encode()) <= 64)
        except (KeyError, IndexError, TypeError):
            ok, cb = False, None
        if not ok:
            return err(400, "Bad Request: BUTTON_DATA_INVALID")
        fast, ctl = take("too_fast")
        if fast:
            ra = ctl.get("retry_after", 1)
            return err(429, "Too Many Requests: retry after %d" % ra,
                       {"parameters": {"retry_after": ra}})
        with LOCK:
            STATE["msg"] += 1
            mid = STATE["msg"]
        self.accepted("telegram", None, text, body, to=chat, cb=cb)
        return self.reply(200, {"ok": True, "result": {
            "message_id": mid, "chat": {"id": chat}, "text": text}},
            "telegram", 0)

    def h_slack(self, path, q, body):
        key = path.rsplit("/", 1)[-1]
        if not path.startswith("/slack/services/") or not key_ok(key):
            return self.reply(404, "no_service", "slack", 404)
        if (not isinstance(body, dict) or not isinstance(body.get("text"),
                                                          str) or
                not body["text"]):
            return self.reply(400, "invalid_payload", "slack", 400)
        fast, ctl = take("too_fast")
        if fast:
            return self.reply(429, "rate_limited", "slack", 429,
                              {"Retry-After": str(ctl.get("retry_after",
                                                          1))})
        self.accepted("slack", key, body["text"], body)
        return self.reply(200, "ok", "slack", 200)

    def h_json(self, path, q, body):
        if not isinstance(body, dict):
            return self.reply(400, {"error": "not a JSON object"}, "json",
                              400)
        fast, ctl = take("too_fast")
        if fast:
            return self.reply(429, {"error": "slow down"}, "json", 429,
                              {"Retry-After": str(ctl.get("retry_after",
                                                          1))})
        self.accepted("json", path[len("/json/"):], body.get("text"), body,
                      to=body.get("to"))
        return self.reply(200, {"ok": True}, "json", 200)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--control")
    ap.add_argument("--secret", default="")
    ap.add_argument("--keys", default="*")
    ap.add_argument("--bot-token", default="123456:TEST-token")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
