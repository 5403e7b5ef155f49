#!/bin/bash
# Integration: issue 6, the web console's files served by gongd
# (engine/api_console.c) from the directory of config http.console — here
# a copy of console/ in the test's directory, with hostile things added:
# a symbolic link to a file outside, a link to a directory outside, a
# link to a file inside, a dot file, a file of a type not served, a file
# over the 1 MiB limit (and one exactly at it).  Checked with curl:
#   / and /console/ are index.html; every file of console/ is served
#   byte for byte with its Content-Type; the security headers (CSP with
#   'self' only and frame-ancestors 'none', no inline script allowed;
#   nosniff; Referrer-Policy no-referrer) on files and refusals alike;
#   the index has no inline script or style; ETag and Last-Modified, 304
#   to If-None-Match; HEAD; other methods 405 with Allow;
#   traversal refused (404, or 400 for a character outside the names
#   served): ../, %2e%2e, %2E%2E, ..%2f, an absolute path, //, a
#   backslash, every link (%00 ends the name: libmicrohttpd decodes
#   it); unknown files and paths 404;
#   the API stays closed to whoever has no credentials;
#   a gongd whose console directory is missing answers 404 and runs on;
#   --check-config takes http.console and refuses a wrong type.
# valgrind: yes
. "$(dirname "$0")/lib.sh"

for b in curl cmp python3; do
	command -v $b >/dev/null || { not_ok "$b installed"; finish; exit 1; }
done

port() { python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'; }
C=$T/console
cp -r "$REPO/console" "$C"
mkdir -p "$T/outside"
echo "secret outside" >"$T/outside/secret.html"
ln -s "$T/outside/secret.html" "$C/leak.html"
ln -s "$T/outside" "$C/out"
ln -s "$C/index.html" "$C/alias.html"
echo "hidden" >"$C/.hidden.html"
echo "not served" >"$C/notes.md"
head -c 1048577 /dev/zero >"$C/big.js"
head -c 1048576 /dev/zero >"$C/limit.js"
echo "x" >"$T/console-sibling.html"	# next to the directory

GPORT=$(port)
D=$T/var
mkdir -p "$D"
cat >"$T/gong.yaml" <<YAML
deployment:
  root: "140400000000"
  name: 长治市
data_dir: ./var
listen: 127.0.0.1:$GPORT
log_level: info
http:
  console: console
channels:
  - { name: sms, type: file, path: sms.log, addr: phone }
YAML
if "$GONGD" --check-config "$T/gong.yaml" >"$T/check.out" 2>&1; then
	ok "the configuration with http.console is valid"
else
	not_ok "the configuration with http.console is valid"
	sed 's/^/#   /' "$T/check.out"
fi
sed 's/^  console: console$/  console: [1, 2]/' "$T/gong.yaml" >"$T/bad.yaml"
"$GONGD" --check-config "$T/bad.yaml" >"$T/bad.out" 2>&1
expect_eq "http.console as a list is refused" "$?" 1
expect_contains "at its line" "$(cat "$T/bad.out")" \
    "bad.yaml:8: error: http.console"

start_gongd c --config "$T/gong.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_c

# req PATH [curl args...]: "status content-type" (headers in $T/h, body
# in $T/b); the path is sent as it is.
req() {
	local p=$1; shift
	: >"$T/b"
	curl -s --path-as-is -D "$T/h" -o "$T/b" \
	    -w '%{http_code} %{content_type}' "$@" "$U$p"
}
hdr() { grep -i "^$1:" "$T/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
secure() {	# the console's security headers on the last answer
	local csp
	csp=$(hdr Content-Security-Policy)
	case "$csp" in *"default-src 'self'"*"frame-ancestors 'none'"*) ;;
	*) echo "CSP: $csp"; return 1 ;; esac
	case "$csp" in *unsafe-inline*|*unsafe-eval*|*"*"*)
		echo "CSP: $csp"; return 1 ;; esac
	[ "$(hdr X-Content-Type-Options)" = nosniff ] &&
	    [ "$(hdr Referrer-Policy)" = no-referrer ]
}

# --- the index --------------------------------------------------------------
expect_eq "/ : 200 text/html" "$(req /)" "200 text/html; charset=utf-8"
check "/ is index.html" cmp -s "$T/b" "$C/index.html"
check "/ carries the security headers" secure
expect_eq "/console/ : the index too" "$(req /console/)" \
    "200 text/html; charset=utf-8"
check "/console/ is index.html" cmp -s "$T/b" "$C/index.html"
expect_eq "the index loads its script from the server only" \
    "$(grep -o '<script[^>]*>' "$C/index.html")" \
    '<script type="module" src="/console/js/app.js">'
expect_eq "no inline script or style, no style attribute, no CDN" \
    "$(grep -ciE '<script>|<style|style=|https?://' "$C/index.html")" 0
expect_eq "no external URL in any console file" \
    "$(grep -rlE '(src|href)=.https?://|https?://[a-z]+\.(com|cn|net|org)' \
    "$REPO/console" | wc -l)" 0
NOHTML='innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\('
expect_eq "no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval" \
    "$(grep -rnE "$NOHTML|new Function" "$REPO/console/js" | wc -l)" 0

# --- every file, its type ---------------------------------------------------
bad=0
while IFS= read -r f; do
	case "$f" in
	*.html) want="text/html; charset=utf-8" ;;
	*.js) want="text/javascript; charset=utf-8" ;;
	*.css) want="text/css; charset=utf-8" ;;
	*.json) want="application/json; charset=utf-8" ;;
	*.svg) want="image/svg+xml" ;;
	*) echo "# unexpected file $f"; bad=1; continue ;;
	esac
	got=$(req "/console/$f")
	if [ "$got" != "200 $want" ] || ! cmp -s "$T/b" "$REPO/console/$f" ||
	    ! secure >/dev/null; then
		echo "# /console/$f: $got"
		bad=1
	fi
done < <(cd "$REPO/console" && find . -type f | sed 's|^\./||' | sort)
expect_eq "every file of console/: its bytes, its type, the headers" \
    "$bad" 0
N=$(cd "$REPO/console" && find . -type f | wc -l)
check "console/ has its files ($N)" test "$N" -ge 10
python3 -c 'import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
sys.exit(0 if set(a) == set(b) else 1)' "$REPO/console/i18n/zh-CN.json" \
    "$REPO/console/i18n/en.json"
expect_eq "zh-CN and en have the same keys" "$?" 0

# --- caching ----------------------------------------------------------------
req /console/app.css >/dev/null
ETAG=$(hdr ETag)
check "an ETag ($ETAG)" test -n "$ETAG"
check "Last-Modified ($(hdr Last-Modified))" test -n "$(hdr Last-Modified)"
expect_eq "revalidated on use" "$(hdr Cache-Control)" no-cache
expect_eq "If-None-Match: 304, no body" \
    "$(req /console/app.css -H "If-None-Match: $ETAG") $(wc -c <"$T/b")" \
    "304  0"
expect_eq "another ETag: 200" \
    "$(req /console/app.css -H 'If-None-Match: "other"')" \
    "200 text/css; charset=utf-8"
touch -d '2030-01-01 00:00' "$C/app.css"
req /console/app.css >/dev/null
check "a changed file, another ETag" test "$(hdr ETag)" != "$ETAG"

# --- methods ----------------------------------------------------------------
# (curl -I writes the headers to the output too: nothing else came.)
expect_eq "HEAD /: 200, the length, no body" \
    "$(req / -I | cut -d' ' -f1) $(hdr Content-Length) $(cmp -s "$T/h" \
    "$T/b" && echo nobody)" "200 $(wc -c <"$C/index.html") nobody"
expect_eq "POST /: 405" "$(req / -X POST --data x | cut -d' ' -f1)" 405
expect_eq "with Allow: GET, HEAD" "$(hdr Allow)" "GET, HEAD"
check "a refusal carries the security headers too" secure
expect_eq "PUT /console/app.css: 405" \
    "$(req /console/app.css -X PUT --data x | cut -d' ' -f1)" 405

# --- traversal and other hostile names ---------------------------------------
code() { req "$@" | cut -d' ' -f1; }
for p in /console/../Makefile /console/%2e%2e/Makefile \
    /console/%2E%2E/%2E%2E/etc/passwd /console/..%2fMakefile \
    /console/js/../../Makefile /console/js/%2e%2e/%2e%2e/Makefile \
    /console/./index.html /console/js/./app.js /console/.. \
    /console//etc/passwd /console/%2fetc%2fpasswd /console/.hidden.html \
    /console/%2ehidden.html /console/leak.html /console/out/secret.html \
    /console/alias.html /console/../console-sibling.html \
    /console/big.js /console/notes.md /console/nope.html /console/js \
    /console/js/ /console/i18n/ /console/js//app.js; do
	c=$(code "$p")
	expect_eq "$p: 404" "$c" 404
	secure >/dev/null || not_ok "$p: without the security headers"
done
for p in '/console/..%5cMakefile' \
    '/console/a%20b.html' '/console/%e4%b8%ad.html' '/console/a:b.js'; do
	expect_eq "$p: 400 (a character outside the names served)" \
	    "$(code "$p")" 400
done
# libmicrohttpd decodes %00 and the name ends there: index.html, as HTML.
expect_eq "/console/index.html%00.js is index.html (as text/html)" \
    "$(req /console/index.html%00.js)" "200 text/html; charset=utf-8"
expect_eq "a file of exactly 1 MiB is served" "$(code /console/limit.js)" \
    200
check "the secret outside was never sent" \
    bash -c "! grep -rq 'secret outside' '$T/b'"
expect_eq "unknown paths: 404" "$(code /nope) $(code /console) \
$(code /index.html) $(code /consolex/app.css)" "404 404 404 404"
expect_eq "the API is not opened by the console: 401" \
    "$(code /api/v1/alerts) $(code /api/v1/me)" "401 401"
check "gongd is still up" kill -0 "$PID_c"
stop_gongd c
expect_eq "gongd stops cleanly" "$RC" 0

# --- no console directory ---------------------------------------------------
GPORT=$(port)
sed -e "s/^listen: .*/listen: 127.0.0.1:$GPORT/" \
    -e 's/^  console: console$/  console: nowhere/' "$T/gong.yaml" \
    >"$T/gone.yaml"
start_gongd g --config "$T/gone.yaml" --data-dir "$D" \
    --listen "127.0.0.1:$GPORT" || { not_ok "gongd starts"; finish; exit 1; }
U=$URL_g
expect_eq "a missing console directory: / is 404" "$(code /)" 404
expect_eq "and the API answers" "$(code /healthz)" 200
stop_gongd g
expect_eq "gongd stops cleanly" "$RC" 0
finish
