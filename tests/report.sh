#!/bin/sh
# tinybrain's HTML pages, rendered the way a person sees them: a small training run and its
# page (tinybrain report), and a small study (tinybrain study --quick --steps 100: every
# step of the quick study, with GPTs trained 100 steps; about a minute) and its report.
# Each page is screenshot by headless Chromium, and again with its pictures hidden (same layout).
# Checks: the page loads nothing from elsewhere, every picture is inlined, the screenshot
# has the asked size, it is not blank (far larger than a blank page's), and the inlined
# pictures show (the screenshot differs from the one with them hidden).  The study also: its
# JSON (seven findings S1-S7 with a verdict each, the report's path), findings.tsv,
# report.md, an axis label on every gnuplot picture, and a re-run that trains nothing.
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

# The study: one JSON object, seven findings with legal verdicts, the files, the cache.
"$root/tinybrain" study --quick --steps 100 --out st --json >st.json 2>"$tmp/err" ||
  { bad "tinybrain study --quick --steps 100"; tail -n 3 "$tmp/err"; }
verdicts=$(grep -Eo '"verdict": "(reproduced|not reproduced|contrary|untestable)"' st.json | wc -l | tr -d ' ')
ids=$(grep -Eo '"id": "S[1-7]"' st.json | sort -u | wc -l | tr -d ' ')
if [ "$ids" = 7 ] && [ "$verdicts" = 7 ] && grep -q '"report": "st/report.html"' st.json &&
   [ "$(grep -c '' st/findings.tsv)" = 8 ] && grep -q '^| S7 |' st/report.md; then
  ok "study: 7 findings with a verdict each in the JSON, findings.tsv and report.md"
else bad "study: findings ($ids ids, $verdicts verdicts in the JSON; see st.json, st/findings.tsv)"; fi
spage=st/report.html
pngs=$(ls st/plots/*.png 2>/dev/null | wc -l | tr -d ' ')
if [ -f $spage ] && ! grep -Eq '(src|href)="(https?:|//|file:)' $spage && ! grep -q '<script' $spage &&
   [ "$pngs" -ge 2 ] && [ "$(grep -c 'src="data:image/png;base64,' $spage)" = "$pngs" ]; then
  ok "study page self-contained: all $pngs pictures inlined, no link out, no script"
else bad "study page: $pngs pictures in st/plots, $(grep -c 'src="data:image/png;base64,' $spage 2>/dev/null) inlined"; fi
unlabelled=""
for gp in st/plots/*.gp; do
  grep -q '^set xlabel ".' "$gp" && grep -q '^set ylabel ".' "$gp" || unlabelled="$unlabelled $gp"
done
[ -z "$unlabelled" ] && ok "study: every gnuplot picture has both axes labelled" || bad "study: unlabelled axes in$unlabelled"
"$root/tinybrain" study --quick --steps 100 --out st --json >st2.json 2>"$tmp/err" &&
  grep -q '"trained_now": 0' st2.json && ok "study re-run: every model cached, nothing trained" ||
  bad "study re-run trained again: $(grep -o '"trained_now": [0-9]*' st2.json)"

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
  printf '<!DOCTYPE html><html><body></body></html>\n' >blank.html
  render() {  # render PAGE NAME: the page and the page without its pictures, against a blank page
    sed 's|</head>|<style>img { visibility: hidden }</style></head>|' "$1" >"$2.bare.html"   # same layout
    if shot "$1" "$2.png" && shot "$2.bare.html" "$2.bare.png"; then
      dim=$(png_dim "$2.png"); full=$(size "$2.png"); bare=$(size "$2.bare.png"); blank=$(size blank.png)
      [ "$dim" = "1000 4000" ] && ok "$2: screenshot is 1000 x 4000" || bad "$2: screenshot size: $dim"
      [ "$full" -gt $((10 * blank)) ] && ok "$2: not blank: $full bytes vs $blank for a blank page" ||
        bad "$2: screenshot looks blank: $full bytes vs $blank for a blank page"
      [ "$full" -gt $((bare + 5000)) ] && ok "$2: the inlined pictures show: $full bytes vs $bare without them" ||
        bad "$2: the pictures do not show: $full bytes vs $bare without them"
    else
      bad "$browser could not take a screenshot of $1"; tail -n 5 "$tmp/chromium.log"
    fi
  }
  if shot blank.html blank.png; then
    render $page run
    [ -f $spage ] && render $spage study
  else
    bad "$browser could not take a screenshot"; tail -n 5 "$tmp/chromium.log"
  fi
fi
echo "report: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
