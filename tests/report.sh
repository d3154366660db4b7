#!/bin/sh
# tinybrain report, rendered the way a person sees it: a small training run, its page
# (tinybrain report), and a screenshot by headless Chromium of the page, and of the same
# page with its pictures taken out.  Checks: the page loads nothing from elsewhere, the
# screenshot has the asked size, it is not blank (far larger than a blank page's), and
# the inlined pictures show (the screenshot differs from the one without them).
# Chromium comes from Debian's `chromium` (installed when root); without it the render
# is skipped and says so.  Prints "report: N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0; skip=0
ok()   { pass=$((pass + 1)); echo "ok   report: $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL report: $1"; }
# png_dim FILE: "WIDTH HEIGHT" from the IHDR chunk
png_dim() { od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'; }
size() { wc -c <"$1" | tr -d ' '; }

mkdir -p "$tmp/w" && ln -s "$root/data" "$tmp/w/data" && cd "$tmp/w" || exit 1
"$root/tinybrain" train --steps 20 --eval-every 10 --save-at 0,final --name r --quiet >/dev/null 2>"$tmp/err" ||
  { cat "$tmp/err"; echo "report: 0 passed, 1 failed, 0 skipped"; exit 1; }
if "$root/tinybrain" report runs/r --json >"$tmp/rep.json" 2>"$tmp/err" && grep -q '"pictures": 1' "$tmp/rep.json"; then
  ok "tinybrain report runs/r: $(cat "$tmp/rep.json")"
else bad "tinybrain report runs/r"; cat "$tmp/err" "$tmp/rep.json"; fi
page=runs/r/report.html
if [ -f $page ] && ! grep -Eq '(src|href)="(https?:|//|file:)' $page && ! grep -q '<script' $page &&
   [ "$(grep -c 'src="data:image/png;base64,' $page)" = 1 ]; then ok "self-contained: one inlined picture, no link out, no script"
else bad "self-contained page"; fi

browser=""
for b in chromium chromium-browser google-chrome; do command -v $b >/dev/null 2>&1 && { browser=$b; break; }; done
if [ -z "$browser" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "report: installing chromium with apt-get (for the headless render; about a minute)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >"$tmp/apt.log" 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >"$tmp/apt.log" 2>&1; }
  command -v chromium >/dev/null 2>&1 && browser=chromium
fi
if [ -z "$browser" ]; then
  skip=1; echo "skip report: no headless Chromium (apt-get install chromium): the page was not rendered"
else
  shot() {  # shot HTML PNG: a 1000 x 4000 screenshot, offline (the proxy goes nowhere)
    timeout 120 $browser --headless --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=127.0.0.1:9 \
      --window-size=1000,4000 --screenshot="$2" "file://$tmp/w/$1" >"$tmp/chromium.log" 2>&1
  }
  sed 's/<img [^>]*>//' $page >bare.html
  printf '<!DOCTYPE html><html><body></body></html>\n' >blank.html
  if shot $page full.png && shot bare.html bare.png && shot blank.html blank.png; then
    dim=$(png_dim full.png); full=$(size full.png); bare=$(size bare.png); blank=$(size blank.png)
    [ "$dim" = "1000 4000" ] && ok "screenshot is 1000 x 4000" || bad "screenshot size: $dim"
    [ "$full" -gt $((10 * blank)) ] && ok "not blank: $full bytes vs $blank for a blank page" ||
      bad "screenshot looks blank: $full bytes vs $blank for a blank page"
    [ "$full" -gt $((bare + 5000)) ] && ok "the inlined picture shows: $full bytes vs $bare without it" ||
      bad "the picture does not show: $full bytes vs $bare without it"
  else
    bad "$browser could not take a screenshot"; tail -n 5 "$tmp/chromium.log"
  fi
fi
echo "report: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
