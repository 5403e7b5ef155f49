#!/usr/bin/python3
"""tests/integration/console_drive.py - walk headless Chromium through the
web console for the integration tests: one browser, one tab, page
JavaScript on, a list of steps read from a JSON file.

It uses cdp_drive.py's Browser (the DevTools protocol over a pipe, its
own user data dir and process group, nothing resolved but 127.0.0.1),
so it is stopped and cleaned up the same way on every way out.

Steps (a JSON array of objects; "name" names a step in the output):

  {"goto": URL}                     load URL, wait for its load event
  {"hash": "#/alerts"}              set location.hash (in-page route)
  {"type": SEL, "text": S}          clear the field, focus it, type S
  {"select": SEL, "value": V}       choose an option (input/change fired)
  {"click": SEL}                    a real mouse click on the element
  {"wait_text": SEL, "text": S}     until SEL's innerText contains S
  {"wait_no_text": SEL, "text": S}  until it no longer does (or no SEL)
  {"text": SEL}                     SEL's innerText, in "value"
  {"eval": EXPR}                    a JavaScript expression's value
  {"sh": CMD}                       run CMD with bash (ok if it exits 0)
  {"sleep": S}
  {"screenshot": PATH}              PNG of the viewport
  {"viewport": [W, H]}              resize the page (a phone, a laptop)

wait_* take "timeout" (seconds, default 15).  Every step prints one JSON
line {"i", "name", "ok", "value"?, "error"?}; the first failed step ends
the walk (its screenshot, if --fail-shot, is taken first).  A last line
{"final": true, "exceptions": [...], "violations": [...]} lists uncaught
page exceptions and console errors (e.g. Content-Security-Policy
violations) seen during the walk.  Exit status 0 when every step passed,
3 when one failed, 1 on a failure of the browser, 2 usage.
"""
import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp_drive import Browser, Failure  # noqa: E402


class StepFailed(Exception):
    pass


def evaluate(b, expr):
    r = b.call("Runtime.evaluate", {"expression": expr,
                                    "returnByValue": True,
                                    "awaitPromise": True})
    if r.get("exceptionDetails"):
        raise StepFailed("evaluate: %s" %
                         r["exceptionDetails"].get("text", "exception"))
    return r.get("result", {}).get("value")


def text_of(b, sel):
    return evaluate(b, "(() => { const e = document.querySelector(%s); "
                    "return e ? e.innerText : null; })()" % json.dumps(sel))


def pump(b, secs):
    """Let events arrive for secs (page exceptions, console)."""
    end = time.monotonic() + secs
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        try:
            m = b._recv(left)
        except Failure as e:
            if "no message" in str(e):
                return
            raise
        if "method" in m:
            b.events.append(m)


def mouse_click(b, sel):
    nid = b.query(sel)
    if not nid:
        raise StepFailed("no element matches %r" % sel)
    b.call("DOM.scrollIntoViewIfNeeded", {"nodeId": nid})
    quad = b.call("DOM.getBoxModel", {"nodeId": nid})["model"]["border"]
    x = (quad[0] + quad[2] + quad[4] + quad[6]) / 4
    y = (quad[1] + quad[3] + quad[5] + quad[7]) / 4
    b.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x,
                                        "y": y})
    for t in ("mousePressed", "mouseReleased"):
        b.call("Input.dispatchMouseEvent",
               {"type": t, "x": x, "y": y, "button": "left",
                "buttons": 1 if t == "mousePressed" else 0,
                "clickCount": 1})


def wait_for(b, sel, text, timeout, present):
    end = time.monotonic() + timeout
    last = None
    while True:
        last = text_of(b, sel)
        has = last is not None and text in last
        if has == present:
            return last
        if time.monotonic() > end:
            raise StepFailed("%s %r %s %r in %.0f s; it shows: %s" % (
                "waited for" if present else "still", text,
                "in" if present else "in", sel, timeout,
                (last or "(no such element)")[:1500]))
        pump(b, 0.2)


def run_step(b, st, args):
    if "goto" in st:
        b.navigate(st["goto"])
        return None
    if "hash" in st:
        evaluate(b, "location.hash = %s" % json.dumps(st["hash"]))
        pump(b, 0.3)
        return None
    if "type" in st:
        sel = st["type"]
        if not evaluate(b, "(() => { const e = document.querySelector(%s);"
                        " if (!e) return false; e.value = ''; "
                        "return true; })()" % json.dumps(sel)):
            raise StepFailed("no element matches %r" % sel)
        b.type_into(sel, st["text"])
        return None
    if "select" in st:
        ok = evaluate(b, "(() => { const e = document.querySelector(%s);"
                      " if (!e) return false; e.value = %s; "
                      "e.dispatchEvent(new Event('input', {bubbles: true}));"
                      "e.dispatchEvent(new Event('change', {bubbles: true}));"
                      " return e.value === %s; })()" % (
                          json.dumps(st["select"]), json.dumps(st["value"]),
                          json.dumps(st["value"])))
        if not ok:
            raise StepFailed("cannot choose %r in %r" % (st["value"],
                                                         st["select"]))
        return None
    if "click" in st:
        mouse_click(b, st["click"])
        pump(b, 0.2)
        return None
    if "wait_text" in st:
        return wait_for(b, st["wait_text"], st["text"],
                        st.get("timeout", 15), True)
    if "wait_no_text" in st:
        return wait_for(b, st["wait_no_text"], st["text"],
                        st.get("timeout", 15), False)
    if "text" in st:
        return text_of(b, st["text"])
    if "eval" in st:
        return evaluate(b, st["eval"])
    if "sh" in st:
        p = subprocess.run(["bash", "-c", st["sh"]], capture_output=True,
                           text=True, timeout=st.get("timeout", 60))
        if p.returncode != 0:
            raise StepFailed("exit %d: %s%s" % (p.returncode, p.stdout,
                                                p.stderr))
        return p.stdout.strip()
    if "sleep" in st:
        pump(b, float(st["sleep"]))
        return None
    if "screenshot" in st:
        shot = b.call("Page.captureScreenshot", {"format": "png"})
        with open(st["screenshot"], "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return st["screenshot"]
    if "viewport" in st:
        w, h = st["viewport"]
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": w, "height": h, "deviceScaleFactor": 1,
                "mobile": w < 700})
        pump(b, 0.3)
        return None
    raise StepFailed("unknown step %s" % json.dumps(st))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--pidfile", default=None)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--size", default="1280x900")
    ap.add_argument("--fail-shot", default=None,
                    help="PNG of the page when a step fails")
    ap.add_argument("steps", help="JSON file with the steps")
    args = ap.parse_args()
    with open(args.steps, encoding="utf-8") as f:
        steps = json.load(f)
    w, h = (int(x) for x in args.size.split("x"))

    def on_signal(signum, frame):
        raise Failure("stopped by signal %d" % signum)

    for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT,
              signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    b = None
    rc = 0
    try:
        b = Browser(args.tmp, args.pidfile, w, h)
        b.attach(True)
        b.call("Runtime.enable")
        b.call("Log.enable")
        for i, st in enumerate(steps, 1):
            out = {"i": i, "name": st.get("name", "step %d" % i)}
            try:
                v = run_step(b, st, args)
                out["ok"] = True
                if v is not None:
                    out["value"] = v
            except (StepFailed, Failure) as e:
                out["ok"] = False
                out["error"] = str(e)
                rc = 3
                if args.fail_shot:
                    try:
                        shot = b.call("Page.captureScreenshot",
                                      {"format": "png"})
                        with open(args.fail_shot, "wb") as f:
                            f.write(base64.b64decode(shot["data"]))
                    except Failure:
                        pass
            print(json.dumps(out, ensure_ascii=False), flush=True)
            if rc:
                break
        exc, viol = [], []
        for e in b.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                exc.append((d.get("exception") or {}).get(
                    "description") or d.get("text"))
            elif e["method"] == "Log.entryAdded":
                en = p.get("entry", {})
                if en.get("level") == "error" and en.get("source") in (
                        "security", "javascript", "violation",
                        "recommendation", "other"):
                    viol.append(en.get("text"))
            elif e["method"] == "Runtime.consoleAPICalled" and \
                    p.get("type") == "error":
                viol.append(" ".join(str(a.get("value", a.get(
                    "description", ""))) for a in p.get("args", [])))
        print(json.dumps({"final": True, "exceptions": exc,
                          "violations": viol}, ensure_ascii=False),
              flush=True)
        return rc
    except Failure as e:
        print("console_drive: %s" % e, file=sys.stderr)
        return 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if b is not None:
            b.close()


if __name__ == "__main__":
    sys.exit(main())
