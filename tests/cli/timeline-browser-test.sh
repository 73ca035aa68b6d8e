#!/bin/sh
# x86irq-run --timeline rendered by a real browser: headless Chromium takes screenshots of the
# SVG and of the HTML page, and the PNGs (decoded with Python's zlib and struct: no PIL) must
# not be blank: a good share of the pixels differ from the background, several colours appear,
# the kinds' own colours among them; the page's script runs (its tooltips are set up).
# Status 77 (skipped) without chromium (Debian package chromium; scripts/setup.sh installs it).
#   timeline-browser-test.sh RUNNER DEFERRED_WORK_ELF SMP_IPI_2_ELF
run=$1 deferred=$2 ipi=$3
browser=
for b in chromium chromium-browser; do
    command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
if [ -z "$browser" ]; then
    echo "timeline-browser: skipped: chromium is not installed (apt-get install chromium)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
say() { echo "$1"; }

"$run" --quiet --timeline="$tmp/dw.svg" "$deferred" >/dev/null 2>&1 || { say "FAIL: deferred-work --timeline"; exit 1; }
"$run" --quiet --smp=2 --timeline="$tmp/ipi.html" "$ipi" >/dev/null 2>&1 || { say "FAIL: smp-ipi-2 --timeline"; exit 1; }

shot() { # file, png
    HOME=$tmp timeout 120 "$browser" --headless --disable-gpu --no-sandbox --hide-scrollbars \
        --user-data-dir="$tmp/profile" --screenshot="$2" --window-size=1200,800 "file://$1" \
        >"$tmp/log" 2>&1
    [ -s "$2" ] || { say "FAIL: no screenshot of $1"; sed 's/^/  /' "$tmp/log" | tail -5; return 1; }
}

# not_blank PNG MIN_SHARE MIN_COLOURS HEX...: the PNG's pixels against its most common colour
# (the background), the distinct colours, and at least 50 pixels of each colour given
not_blank() {
    python3 - "$@" <<'PY'
import struct, sys, zlib
path, min_share, min_colours, wanted = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, chunks = 8, {}
idat = b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
assert depth == 8 and interlace == 0 and colour_type in (2, 6), "PNG type %d/%d" % (colour_type, depth)
bpp = 3 if colour_type == 2 else 4
raw = zlib.decompress(idat)
stride = width * bpp
rows, previous, i = [], bytearray(stride), 0
for y in range(height):
    f = raw[i]
    line = bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = previous[x]
        c = previous[x - bpp] if x >= bpp else 0
        if f == 1:
            line[x] = (line[x] + a) & 0xFF
        elif f == 2:
            line[x] = (line[x] + b) & 0xFF
        elif f == 3:
            line[x] = (line[x] + ((a + b) >> 1)) & 0xFF
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    rows.append(bytes(line))
    previous = line
counts = {}
for line in rows:
    for x in range(0, stride, bpp):
        rgb = line[x:x + 3]
        counts[rgb] = counts.get(rgb, 0) + 1
background, n = max(counts.items(), key=lambda kv: kv[1])
share = 1 - n / (width * height)
colours = [c for c, k in counts.items() if k >= 20]
missing = [h for h in wanted if counts.get(bytes.fromhex(h), 0) < 50]
print("  %s: %dx%d, %.1f%% off the background #%s, %d colours (20+ pixels)%s" % (
    path.rsplit("/", 1)[-1], width, height, 100 * share, background.hex(), len(colours),
    ", missing " + " ".join(missing) if missing else ""))
sys.exit(0 if share >= min_share and len(colours) >= min_colours and not missing else 1)
PY
}

# the SVG: phases (softirq green, workqueue purple) and the timer's slices (gold)
if shot "$tmp/dw.svg" "$tmp/dw.png" && not_blank "$tmp/dw.png" 0.03 6 2ca02c e6ab02 9467bd; then
    say "ok: the SVG renders: coloured, not blank"
else
    say "FAIL: the SVG's screenshot is blank or lacks the kinds' colours"; failed=1
fi
# the page: two CPU bands of IPIs (cyan)
if shot "$tmp/ipi.html" "$tmp/ipi.png" && not_blank "$tmp/ipi.png" 0.02 4 17becf; then
    say "ok: the HTML page renders"
else
    say "FAIL: the page's screenshot is blank"; failed=1
fi
# the page's script ran: it moved every tooltip into data-tip
HOME=$tmp timeout 120 "$browser" --headless --disable-gpu --no-sandbox --user-data-dir="$tmp/profile" \
    --dump-dom "file://$tmp/ipi.html" >"$tmp/dom" 2>"$tmp/log"
if grep -q 'data-tip="' "$tmp/dom" && ! grep -q '<rect class="k-ipi[^>]*><title>' "$tmp/dom"; then
    say "ok: the page's script runs (tooltips ready)"
else
    say "FAIL: the page's script did not run"; failed=1
fi
# a picture that is not one: an empty page must fail the same check (the check can fail)
printf '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="800"/>' >"$tmp/empty.svg"
if shot "$tmp/empty.svg" "$tmp/empty.png" && ! not_blank "$tmp/empty.png" 0.05 6 >/dev/null; then
    say "ok: an empty picture is found blank"
else
    say "FAIL: the blank check passed an empty picture"; failed=1
fi
exit $failed
