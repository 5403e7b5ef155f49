#!/usr/bin/python3
"""tests/integration/cdp_drive.py - drive headless Chromium for the
integration tests over the DevTools protocol, with page JavaScript
disabled unless --js is given.

The protocol runs over a pipe (--remote-debugging-pipe: JSON messages
separated by NUL on file descriptors 3 and 4), so the browser listens on
no port at all, and only the Python standard library is needed.  Each run
starts its own Chromium (its own --user-data-dir in a temporary
directory, its own process group) and ends it, and removes that
directory, on every way out: normal end, error, timeout (--timeout,
default 30 s) or a signal.  Host names other than 127.0.0.1 resolve to
nothing, so nothing leaves the machine.

Commands (the result is one JSON document on stdout):

  probe               load a probe page with a <script> and a <noscript>:
                      tells whether page scripts run in this browser
  page URL            open URL: its HTTP status, title, visible text,
                      buttons, forms, script elements (read through the
                      DOM domain, never through page JavaScript)
  click URL [--selector SEL] [--note TEXT]
                      open URL, type TEXT into the page's textarea (if
                      given), click the middle of the first element that
                      matches SEL (default "button") with real mouse
                      events, wait for the page that follows; both pages
                      as for "page", the second with the method and body
                      of the request that loaded it

page and click also run the probe in the same tab before and after, so
the result shows that scripts stayed disabled across the navigations.
Exit status 0 when the command ran (the caller checks the result), 1 on
a failure of the browser or the protocol (printed on stderr), 2 usage.
"""
import argparse
import base64
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PROBE = ("data:text/html;charset=utf-8,<!DOCTYPE html><html><head>"
         "<title>probe</title><script>document.title='js-ran';"
         "document.documentElement.setAttribute('data-js','1');</script>"
         "</head><body><noscript><p id=\"nojs\">noscript</p></noscript>"
         "</body></html>")


class Failure(Exception):
    pass


class Browser:
    """One Chromium, one page target, a flat session."""

    def __init__(self, tmp, pidfile, width, height):
        self.dir = tempfile.mkdtemp(prefix="cdp-", dir=tmp)
        self.proc = None
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        r_in, w_in = os.pipe()    # we write, Chromium reads fd 3
        r_out, w_out = os.pipe()  # Chromium writes fd 4, we read

        def child():
            os.dup2(r_in, 3)
            os.dup2(w_out, 4)

        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe",
                "--user-data-dir=" + self.dir,
                "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps",
                "--metrics-recording-only", "--mute-audio",
                "--disable-breakpad", "--disable-crash-reporter",
                "--disable-features=Translate,MediaRouter,"
                "OptimizationHints,AutofillServerCommunication",
                "--host-resolver-rules=MAP * ~NOTFOUND, "
                "EXCLUDE 127.0.0.1",
                "--window-size=%d,%d" % (width, height),
                "about:blank"]
        # Everything it writes (profile, crash database) stays in dir.
        env = dict(os.environ, HOME=self.dir,
                   XDG_CONFIG_HOME=os.path.join(self.dir, "config"),
                   XDG_CACHE_HOME=os.path.join(self.dir, "cache"))
        self.log = open(os.path.join(self.dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            args, pass_fds=(3, 4), preexec_fn=child, env=env,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        os.close(r_in)
        os.close(w_out)
        self.w, self.r = w_in, r_out
        if pidfile:
            with open(pidfile, "w") as f:
                f.write("%d\n" % self.proc.pid)

    def attach(self, js):
        """A new page target, attached, its domains on."""
        t = self.call("Target.createTarget", {"url": "about:blank"},
                      browser=True)
        a = self.call("Target.attachToTarget",
                      {"targetId": t["targetId"], "flatten": True},
                      browser=True)
        self.session = a["sessionId"]
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("DOM.enable")
        if not js:
            self.call("Emulation.setScriptExecutionDisabled",
                      {"value": True})

    # -- the wire -------------------------------------------------------
    def _send(self, msg):
        data = json.dumps(msg).encode() + b"\0"
        while data:
            n = os.write(self.w, data)
            data = data[n:]

    def _recv(self, timeout):
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.r], [], [], timeout)
            if not ready:
                raise Failure("no message from Chromium in %.0f s" % timeout)
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                raise Failure("Chromium closed the pipe (exited %s)" %
                              self.proc.poll())
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None, browser=False, timeout=15):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if not browser:
            msg["sessionId"] = self.session
        self._send(msg)
        end = time.monotonic() + timeout
        while True:
            m = self._recv(max(0.1, end - time.monotonic()))
            if m.get("id") == mid:
                if "error" in m:
                    raise Failure("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, name, timeout=15, since=0):
        """The first event called name at index >= since (waiting)."""
        end = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.events):
                if self.events[i]["method"] == name:
                    return self.events[i]
                i += 1
            left = end - time.monotonic()
            if left <= 0:
                raise Failure("no %s in %.0f s" % (name, timeout))
            m = self._recv(left)
            if "method" in m:
                self.events.append(m)

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self._stop_helpers()
        for fd in (getattr(self, "w", None), getattr(self, "r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _stop_helpers(self):
        """Chromium's crash handlers start their own sessions, out of its
        process group: stop those whose command line names our dir."""
        mark = self.dir.encode()
        for _ in range(20):
            left = []
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        if mark in f.read():
                            left.append(int(pid))
                except OSError:
                    pass
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)

    # -- pages ------------------------------------------------------------
    def navigate(self, url):
        mark = len(self.events)
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise Failure("navigate %s: %s" % (url, r["errorText"]))
        self.wait_event("Page.loadEventFired", since=mark)
        return mark

    def document(self):
        return self.call("DOM.getDocument", {"depth": -1,
                                             "pierce": False})["root"]

    def query(self, selector):
        root = self.call("DOM.getDocument", {"depth": 0})["root"]
        nid = self.call("DOM.querySelector", {"nodeId": root["nodeId"],
                                              "selector": selector})
        return nid.get("nodeId", 0)

    def click(self, selector):
        nid = self.query(selector)
        if not nid:
            raise Failure("no element matches %r" % selector)
        self.call("DOM.scrollIntoViewIfNeeded", {"nodeId": nid})
        quad = self.call("DOM.getBoxModel", {"nodeId": nid})["model"][
            "content"]
        x = (quad[0] + quad[2] + quad[4] + quad[6]) / 4
        y = (quad[1] + quad[3] + quad[5] + quad[7]) / 4
        mark = len(self.events)
        self.call("Input.dispatchMouseEvent",
                  {"type": "mouseMoved", "x": x, "y": y})
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent",
                      {"type": t, "x": x, "y": y, "button": "left",
                       "buttons": 1 if t == "mousePressed" else 0,
                       "clickCount": 1})
        self.wait_event("Page.frameNavigated", since=mark)
        self.wait_event("Page.loadEventFired", since=mark)
        return mark, {"x": round(x, 1), "y": round(y, 1)}

    def type_into(self, selector, text):
        nid = self.query(selector)
        if not nid:
            raise Failure("no element matches %r" % selector)
        self.call("DOM.focus", {"nodeId": nid})
        self.call("Input.insertText", {"text": text})


def walk(node, fn, path=()):
    fn(node, path)
    for c in node.get("children", []):
        walk(c, fn, path + (node,))
    if "contentDocument" in node:
        walk(node["contentDocument"], fn, path + (node,))


def attrs(node):
    a = node.get("attributes", [])
    return dict(zip(a[0::2], a[1::2]))


def page_info(b, mark):
    """What the page at hand shows, from the DOM (no page script)."""
    doc = b.document()
    info = {"title": "", "h1": [], "buttons": [], "forms": [],
            "scripts": 0, "noscript_elements": 0, "text": "",
            "data_js": None}
    texts = []

    def fn(n, path):
        name = n.get("nodeName", "").lower()
        names = [p.get("nodeName", "").lower() for p in path]
        if n.get("nodeType") == 3:
            v = n.get("nodeValue", "")
            if "title" in names:
                info["title"] += v
            if "h1" in names:
                info["h1"].append(v)
            if "button" in names:
                info["buttons"].append(v.strip())
            if "body" in names and not set(names) & {"script", "style"}:
                texts.append(v)
        elif name == "html":
            info["data_js"] = attrs(n).get("data-js")
        elif name == "form":
            a = attrs(n)
            info["forms"].append({"method": a.get("method", "get"),
                                  "action": a.get("action")})
        elif name == "script":
            info["scripts"] += 1
        elif name == "noscript":
            # With scripting off its content is parsed as elements.
            if any(c.get("nodeType") == 1 for c in n.get("children", [])):
                info["noscript_elements"] += 1

    walk(doc, fn)
    info["text"] = " ".join(" ".join(texts).split())
    info["url"] = doc.get("documentURL")
    status = method = post = None
    for e in b.events[mark:]:
        p = e.get("params", {})
        if e["method"] == "Network.requestWillBeSent" and \
                p.get("type") == "Document":
            rq = p.get("request", {})
            method = rq.get("method")
            post = rq.get("postData")
            if post is None and rq.get("postDataEntries"):
                post = b"".join(base64.b64decode(x.get("bytes", ""))
                                for x in rq["postDataEntries"]).decode(
                                    "utf-8", "replace")
        elif e["method"] == "Network.responseReceived" and \
                p.get("type") == "Document":
            status = p.get("response", {}).get("status")
    info["status"] = status
    info["method"] = method
    info["post_data"] = post
    return info


def probe(b):
    mark = b.navigate(PROBE)
    i = page_info(b, mark)
    return {"title": i["title"], "js_ran": i["title"] == "js-ran" or
            i["data_js"] == "1",
            "noscript_shown": i["noscript_elements"] > 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--js", action="store_true",
                    help="leave page JavaScript enabled")
    ap.add_argument("--tmp", default=None, help="for the user data dir")
    ap.add_argument("--pidfile", default=None,
                    help="write Chromium's PID (its process group) here")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--screenshot", default=None,
                    help="PNG of the last page")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("probe")
    p = sub.add_parser("page")
    p.add_argument("url")
    c = sub.add_parser("click")
    c.add_argument("url")
    c.add_argument("--selector", default="button")
    c.add_argument("--note", default=None)
    args = ap.parse_args()

    def on_signal(signum, frame):
        raise Failure("stopped by signal %d" % signum)

    for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT,
              signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    b = None
    try:
        b = Browser(args.tmp, args.pidfile, 412, 915)
        b.attach(args.js)
        out = {"js_enabled": args.js}
        if args.cmd == "probe":
            out["probe"] = probe(b)
        else:
            out["probe_before"] = probe(b)
            mark = b.navigate(args.url)
            out["page"] = page_info(b, mark)
            if args.cmd == "click":
                if args.note is not None:
                    b.type_into("textarea", args.note)
                mark, at = b.click(args.selector)
                out["clicked_at"] = at
                out["after"] = page_info(b, mark)
            if args.screenshot:
                shot = b.call("Page.captureScreenshot", {"format": "png"})
                with open(args.screenshot, "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
            out["probe_after"] = probe(b)
        json.dump(out, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    except Failure as e:
        print("cdp_drive: %s" % e, file=sys.stderr)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if b is not None:
            b.close()


if __name__ == "__main__":
    sys.exit(main())
