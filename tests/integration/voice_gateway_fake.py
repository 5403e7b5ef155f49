#!/usr/bin/env python3
"""A voice notification gateway fake for gong's voice-http driver, in the
documented shape of Tencent Cloud VMS (语音消息) API 3.0 (127.0.0.1 only).

    voice_gateway_fake.py [--port N] [--port-file FILE] --log FILE
        [--requests FILE] [--control FILE] [--callback URL]
        --secret-id ID (--secret-key KEY | --secret-key-file FILE)
        [--app-id 1400006666] [--template-id 4356] [--max-skew 300]
        [--clock-file FILE]

Listens on 127.0.0.1:N (0: a free port), prints "PORT <n>" on its first
line of stdout and writes <n> to --port-file.  Stops with its parent.

The API: POST / with the headers X-TC-Action: SendTtsVoice, X-TC-Version:
2020-09-02, X-TC-Timestamp, X-TC-Region and a TC3-HMAC-SHA256
Authorization over the headers it names (content-type and host at least),
checked as VMS does (Error codes AuthFailure.SecretIdNotFound,
AuthFailure.SignatureExpire beyond --max-skew seconds, -1 no check,
AuthFailure.SignatureFailure), and a JSON body with TemplateId (=
--template-id), CalledNumber (+86 and 11 digits starting with 1),
VoiceSdkAppid (= --app-id), TemplateParamSet (strings, at most 350
characters in all), PlayTimes (1..3) and SessionContext (optional).
The driver signs with gongd's clock: when a test runs gongd ahead of
real time (GONG_TEST_CLOCK_FILE, milliseconds ahead), give the fake the
same file as --clock-file and it judges the timestamp by that time too.
Success is HTTP 200 {"Response": {"SendStatus": {"CallId", "SessionContext"},
"RequestId"}}; refusals are HTTP 200 {"Response": {"Error": {"Code",
"Message"}, "RequestId"}}.  Every accepted call is one JSON line in --log:
{"t", "callid", "to" (11 digits), "called" (+86...), "text" (the first
parameter), "params", "session", "play_times", "template", "app"}.
--requests gets one line per request, whatever the answer: {"t",
"status", "code", "session", "to"}.

Misbehaving: a JSON control object, from --control (read again at every
request) merged with the last POST /_fake/control (replaces it; {} to
clear), with any of
  "status": N          answer HTTP N (503, 429, 400 ...) with no Response
  "retry_after": s     with a Retry-After: s header
  "error": "Code"      answer Response.Error with that code (e.g.
                       "RequestLimitExceeded", "AuthFailure.SignatureFailure")
  "error_numbers": {"13800000000": "Code", ...}   per called mobile
  "until": t           all of the above only until unix time t
  "delay": s           wait s seconds before answering

The person on the phone (the answer is the callback's status and body,
as JSON {"status": N, "body": "..."}; 404 if no such call):
  POST /_fake/press   {"to": "13800000000" | "callid": "...", "key": "1"}
      -> {"voicekey_callback": {"call_from": "", "callid", "keypress",
          "mobile", "nationcode": "86"}}
  POST /_fake/status  {"to" | "callid", "result": "0" | "1" | "2"}
      -> {"voiceprompt_callback": {"result", "accept_time", "call_from",
          "callid", "end_calltime", "fee", "mobile", "nationcode",
          "start_calltime"}}   (0 answered, 1 not answered, 2 failed)
  POST /_fake/failure {"to" | "callid", "failure_code": 8,
                       "failure_reason": "空号"}
      -> {"voice_failure_callback": {...}}
  POST /_fake/raw     {"body": "<any text>"}   that body as it is
each to the object's "callback" or --callback; "to" picks the latest
call to that number.  The answer also has "sent", the callback object.
GET /_fake/calls lists the accepted calls; POST /_fake/sink answers 200
{"result":0,"errmsg":"OK"} to anything (a callback receiver for tests
that have none: they take "sent" from the answer).

For example (shell):
  curl -s -d '{"to":"10045045320","key":"1"}' http://127.0.0.1:$P/_fake/press
"""
import argparse
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
CALLS = []			# accepted calls, oldest first
STATE = {"control": {}}
NUMBER = re.compile(r"^\+861[0-9]{10}$")
MESSAGES = {
    "AuthFailure.SecretIdNotFound": "The SecretId is not found.",
    "AuthFailure.SignatureExpire": "Signature expired.",
    "AuthFailure.SignatureFailure": "The provided credentials could not "
                                    "be validated.",
    "AuthFailure.InvalidAuthorization": "Authorization is invalid.",
    "MissingParameter": "A parameter is missing.",
    "InvalidParameter": "Incorrect parameter.",
    "InvalidAction": "The API does not exist.",
    "FailedOperation.InvalidJsonParameters": "无效 JSON",
    "FailedOperation.TemplateIncorrectOrUnapproved":
        "模版未审核或请求的内容与审核通过的模版内容不匹配",
    "InvalidParameterValue.CalledNumberVerifyFail": "被叫手机号码格式校验失败",
    "InvalidParameterValue.ContentLengthLimit": "语音模板中单个变量长度超过限制",
    "InvalidParameterValue.SdkAppidNotExist": "SDK AppID 不存在",
    "LimitExceeded.DeliveryFrequencyLimit": "下发语音消息时命中频率限制策略",
    "RequestLimitExceeded": "请求的次数超过了频率限制",
    "InternalError.AccessUpstreamTimeout": "访问上游超时网络",
}


def append(path, *objs):
    if not path:
        return
    with LOCK, open(path, "a", encoding="utf-8") as f:
        for o in objs:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def control(path):
    c = {}
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                c = json.load(f)
        except (OSError, ValueError):
            c = {}
    with LOCK:
        c = dict(c, **STATE["control"])
    if "until" in c and time.time() >= float(c["until"]):
        return {k: v for k, v in c.items() if k == "delay"}
    return c


def now(srv):
    """Unix time, ahead by --clock-file's milliseconds as gongd's is."""
    off = 0
    if srv.clock_file:
        try:
            with open(srv.clock_file, encoding="ascii") as f:
                off = int(f.read().strip() or "0")
        except (OSError, ValueError):
            off = 0
    return time.time() + off / 1000.0


def sha256hex(b):
    return hashlib.sha256(b).hexdigest()


def hm(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def check_signature(srv, headers, body):
    """None if the request is signed right, else an Error code."""
    auth = headers.get("authorization", "")
    m = re.match(r"^TC3-HMAC-SHA256 Credential=([^/,]+)/([0-9-]+)/([a-z]+)"
                 r"/tc3_request, SignedHeaders=([a-z0-9;-]+), "
                 r"Signature=([0-9a-f]{64})$", auth)
    if not m:
        return "AuthFailure.InvalidAuthorization"
    sid, date, service, signed, sig = m.groups()
    if sid != srv.secret_id:
        return "AuthFailure.SecretIdNotFound"
    try:
        ts = int(headers.get("x-tc-timestamp", ""))
    except ValueError:
        return "MissingParameter"
    if srv.max_skew >= 0 and abs(now(srv) - ts) > srv.max_skew:
        return "AuthFailure.SignatureExpire"
    day = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    if date != day.strftime("%Y-%m-%d") or service != "vms":
        return "AuthFailure.SignatureFailure"
    names = signed.split(";")
    if "content-type" not in names or "host" not in names or \
            names != sorted(names):
        return "AuthFailure.SignatureFailure"
    canon = ""
    for n in names:
        v = headers.get(n)
        if v is None:
            return "AuthFailure.SignatureFailure"
        v = v.strip().lower()	# keys and values in lower case
        canon += "%s:%s\n" % (n, v)
    creq = "POST\n%s\n\n%s\n%s\n%s" % ("/", canon, signed, sha256hex(body))
    sts = "TC3-HMAC-SHA256\n%d\n%s/vms/tc3_request\n%s" % (
        ts, date, sha256hex(creq.encode("utf-8")))
    k = hm(("TC3" + srv.secret_key).encode("utf-8"), date)
    k = hm(k, "vms")
    k = hm(k, "tc3_request")
    want = hmac.new(k, sts.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        return "AuthFailure.SignatureFailure"
    return None


def check_body(srv, body):
    """(code or None, parsed body or {})."""
    try:
        b = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "FailedOperation.InvalidJsonParameters", {}
    if not isinstance(b, dict):
        return "FailedOperation.InvalidJsonParameters", {}
    for k in ("TemplateId", "CalledNumber", "VoiceSdkAppid"):
        if k not in b:
            return "MissingParameter", b
        if not isinstance(b[k], str):
            return "InvalidParameter", b
    if b["VoiceSdkAppid"] != srv.app_id:
        return "InvalidParameterValue.SdkAppidNotExist", b
    if b["TemplateId"] != srv.template_id:
        return "FailedOperation.TemplateIncorrectOrUnapproved", b
    if not NUMBER.match(b["CalledNumber"]):
        return "InvalidParameterValue.CalledNumberVerifyFail", b
    ps = b.get("TemplateParamSet", [])
    if not isinstance(ps, list) or not all(isinstance(x, str) for x in ps):
        return "InvalidParameter", b
    if sum(len(x) for x in ps) > 350:
        return "InvalidParameterValue.ContentLengthLimit", b
    pt = b.get("PlayTimes", 2)
    if not isinstance(pt, int) or isinstance(pt, bool) or not 1 <= pt <= 3:
        return "InvalidParameter", b
    if not isinstance(b.get("SessionContext", ""), str):
        return "InvalidParameter", b
    return None, b


def mobile(s):
    """A number as the 11 digits of a Chinese mobile (+86 dropped)."""
    s = str(s).lstrip("+")
    if len(s) == 13 and s.startswith("86"):
        s = s[2:]
    return s


def find_call(o):
    with LOCK:
        for c in reversed(CALLS):
            if ("callid" in o and c["callid"] == o["callid"]) or \
                    ("to" in o and c["to"] == mobile(o["to"])):
                return c
    return None


def post(url, body):
    """POST body (bytes) to url; (status, text)."""
    rq = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def answer(self, status, obj, headers=()):
        b = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b)

    def error(self, code, rid):
        self.answer(200, {"Response": {"Error": {
            "Code": code, "Message": MESSAGES.get(code, code)},
            "RequestId": rid}})

    def do_GET(self):
        if self.path == "/_fake/calls":
            with LOCK:
                calls = list(CALLS)
            self.answer(200, calls)
        else:
            self.answer(404, {"error": "not found"})

    def fake(self, body):
        srv = self.server
        try:
            o = json.loads(body.decode("utf-8"))
            if not isinstance(o, dict):
                raise ValueError
        except (UnicodeDecodeError, ValueError):
            self.answer(400, {"error": "want a JSON object"})
            return
        if self.path == "/_fake/sink":
            # A stand-in callback receiver (for tests without one).
            self.answer(200, {"result": 0, "errmsg": "OK"})
            return
        if self.path == "/_fake/control":
            with LOCK:
                STATE["control"] = o
            self.answer(200, {"control": o})
            return
        url = o.get("callback") or srv.callback
        if not url:
            self.answer(400, {"error": "no callback URL"})
            return
        if self.path == "/_fake/raw":
            st, text = post(url, str(o.get("body", "")).encode("utf-8"))
            self.answer(200, {"status": st, "body": text})
            return
        c = find_call(o)
        if c is None:
            self.answer(404, {"error": "no such call"})
            return
        base = {"call_from": "", "callid": c["callid"], "mobile": c["to"],
                "nationcode": "86"}
        now = int(time.time())
        if self.path == "/_fake/press":
            cb = {"voicekey_callback": dict(base,
                                            keypress=str(o.get("key", "1")))}
        elif self.path == "/_fake/status":
            r = str(o.get("result", "0"))
            cb = {"voiceprompt_callback": dict(
                base, result=r, accept_time=str(now) if r == "0" else "0",
                start_calltime=str(now - 20), end_calltime=str(now),
                fee="1" if r == "0" else "0")}
        elif self.path == "/_fake/failure":
            cb = {"voice_failure_callback": dict(
                base, failure_code=int(o.get("failure_code", 5)),
                failure_reason=str(o.get("failure_reason", "无人接听")))}
        else:
            self.answer(404, {"error": "not found"})
            return
        st, text = post(url, json.dumps(cb, ensure_ascii=False)
                        .encode("utf-8"))
        self.answer(200, {"status": st, "body": text, "sent": cb})

    def do_POST(self):
        srv = self.server
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if n < 0 or n > 1 << 20:
            self.answer(413, {"error": "body too large"})
            self.close_connection = True
            return
        body = self.rfile.read(n)
        if self.path.startswith("/_fake/"):
            self.fake(body)
            return
        rid = str(uuid.uuid4())
        c = control(srv.control)
        now = time.time()
        if c.get("delay"):
            time.sleep(float(c["delay"]))
        status, code, to, sess = 200, None, "", ""
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        if self.path != "/":
            status = 404
        elif hdrs.get("x-tc-action") != "SendTtsVoice":
            code = "InvalidAction"
        elif hdrs.get("x-tc-version") != "2020-09-02" or \
                not hdrs.get("x-tc-region"):
            code = "MissingParameter"
        else:
            code = check_signature(srv, hdrs, body)
            b = {}
            if code is None:
                code, b = check_body(srv, body)
            sess = b.get("SessionContext", "") if isinstance(
                b.get("SessionContext", ""), str) else ""
            to = str(b.get("CalledNumber", ""))[3:]
            if code is None and c.get("status"):
                status = int(c["status"])
            elif code is None and c.get("error"):
                code = str(c["error"])
            elif code is None and to in c.get("error_numbers", {}):
                code = str(c["error_numbers"][to])
        append(srv.requests, {"t": now, "status": status, "code": code or
                              ("OK" if status == 200 else "HTTP"),
                              "session": sess, "to": to})
        if status != 200:
            h = []
            if c.get("retry_after") is not None:
                h = [("Retry-After", str(int(c["retry_after"])))]
            self.answer(status, {"error": "status %d" % status}, h)
            return
        if code is not None:
            self.error(code, rid)
            return
        callid = str(uuid.uuid1())
        ps = b.get("TemplateParamSet", [])
        call = {"t": time.time(), "callid": callid, "to": to,
                "called": b["CalledNumber"], "text": ps[0] if ps else "",
                "params": ps, "session": sess,
                "play_times": b.get("PlayTimes", 2),
                "template": b["TemplateId"], "app": b["VoiceSdkAppid"]}
        with LOCK:
            CALLS.append(call)
        append(srv.log, call)
        self.answer(200, {"Response": {"SendStatus": {
            "CallId": callid, "SessionContext": sess}, "RequestId": rid}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", required=True)
    ap.add_argument("--requests")
    ap.add_argument("--control")
    ap.add_argument("--callback")
    ap.add_argument("--secret-id", required=True)
    ap.add_argument("--secret-key")
    ap.add_argument("--secret-key-file")
    ap.add_argument("--app-id", default="1400006666")
    ap.add_argument("--template-id", default="4356")
    ap.add_argument("--max-skew", type=int, default=300)
    ap.add_argument("--clock-file")
    a = ap.parse_args()
    if a.secret_key_file:
        with open(a.secret_key_file, encoding="utf-8") as f:
            a.secret_key = f.readline().rstrip("\r\n")
    if not a.secret_key:
        ap.error("--secret-key or --secret-key-file is required")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.log, srv.requests, srv.control = a.log, a.requests, a.control
    srv.callback, srv.secret_id, srv.secret_key = (a.callback, a.secret_id,
                                                   a.secret_key)
    srv.app_id, srv.template_id = a.app_id, a.template_id
    srv.max_skew, srv.clock_file = a.max_skew, a.clock_file
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(a.port_file + ".tmp", a.port_file)
    print("PORT %d" % port, flush=True)
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
