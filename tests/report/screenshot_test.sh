#!/usr/bin/env bash
# Renders a saved audit as HTML, has headless Chromium draw it, and checks that the screenshot
# is a 1200x2000 PNG with something on it. Exit 77 (ctest: skipped) when Chromium is absent.
#   screenshot_test.sh FPAUDIT RUN.json SCREENSHOT.png
set -euo pipefail
fpaudit=$1 run=$2 shot=$3

# $FPAUDIT_CHROMIUM names the browser (set it to a missing file to see the skip path).
browser=""
for b in ${FPAUDIT_CHROMIUM:-chromium chromium-browser google-chrome}; do
  if command -v "$b" >/dev/null; then browser=$(command -v "$b"); break; fi
done
if [[ -z $browser ]]; then
  echo "chromium is not installed (scripts/install-deps installs it): screenshot test skipped"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The report gets a folder of its own: fpaudit refuses to write into a folder holding other files.
"$fpaudit" report "$run" --format html --out "$tmp/report" >"$tmp/report.log" 2>&1 || { cat "$tmp/report.log"; exit 1; }
# The page must carry its plots: a page of tables alone would still make a large screenshot.
# Without gnuplot that is expected (skipped); with it, a failure.
if grep -q 'id="plots-missing"' "$tmp/report/audit.html" || ! grep -q '<svg' "$tmp/report/audit.html"; then
  if ! command -v "${FPAUDIT_GNUPLOT:-gnuplot}" >/dev/null; then
    echo "gnuplot is not installed (scripts/install-deps installs it): screenshot test skipped"
    exit 77
  fi
  echo "the HTML report has no plots:"; grep -o 'Plots are missing:</b>[^.]*' "$tmp/report/audit.html" || true; exit 1
fi
rm -f "$shot"
# A fresh profile and no background traffic: the page must render from the file alone.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$tmp/profile" \
  --screenshot="$shot" --window-size=1200,2000 "file://$tmp/report/audit.html" >"$tmp/chromium.log" 2>&1 || {
  echo "chromium failed:"; tail -5 "$tmp/chromium.log"; exit 1; }

[[ -f $shot ]] || { echo "no screenshot written"; tail -5 "$tmp/chromium.log"; exit 1; }
# PNG signature, then the IHDR chunk: width and height as 4-byte big-endian integers at 16 and 20.
signature=$(od -An -tx1 -N8 "$shot" | tr -d ' \n')
[[ $signature == 89504e470d0a1a0a ]] || { echo "not a PNG: $signature"; exit 1; }
read -r w3 w2 w1 w0 h3 h2 h1 h0 < <(od -An -tu1 -j16 -N8 "$shot")
width=$(( (w3 << 24) | (w2 << 16) | (w1 << 8) | w0 )) height=$(( (h3 << 24) | (h2 << 16) | (h1 << 8) | h0 ))
[[ $width -eq 1200 && $height -eq 2000 ]] || { echo "screenshot is ${width}x${height}, expected 1200x2000"; exit 1; }
# A blank 1200x2000 page compresses to a few kilobytes; tables, text and plots to far more.
size=$(stat -c %s "$shot")
(( size > 60000 && size < 20000000 )) || { echo "implausible screenshot size: $size bytes"; exit 1; }
echo "screenshot $shot: ${width}x${height}, $size bytes"
