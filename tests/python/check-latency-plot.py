"""Test python-latency-plot: examples/python/latency_plot.py renders its PNGs into a temporary
directory, and each is a real picture: more than a few kilobytes, readable by matplotlib, and
not one colour all over. Exit 77 (skip) without matplotlib (Debian: python3-matplotlib)."""
import os
import subprocess
import sys
import tempfile

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image
except ImportError:
    print(f"{sys.executable} cannot import matplotlib: install python3-matplotlib "
          "(scripts/setup.sh does); skipping", file=sys.stderr)
    sys.exit(77)

example = sys.argv[1]
guest = os.environ["X86IRQ_GUEST_NIC_BOTTOM_HALF"]
with tempfile.TemporaryDirectory() as out:
    result = subprocess.run([sys.executable, example, "--guest", guest, "--out", out],
                            capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        sys.exit(f"latency_plot.py exited with {result.returncode}")
    for name in ("latency-histograms.png", "nesting-timeline.png"):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            sys.exit(f"{name} was not written")
        size = os.path.getsize(path)
        if size < 10000:
            sys.exit(f"{name}: only {size} bytes")
        pixels = matplotlib.image.imread(path)
        if pixels.ndim != 3 or pixels.shape[0] < 200 or pixels.shape[1] < 200:
            sys.exit(f"{name}: a {pixels.shape} image")
        if (pixels == pixels[0, 0]).all():
            sys.exit(f"{name}: every pixel is the same")
        # more than the background and a frame: a drawing
        colours = len({tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::7]})
        if colours < 8:
            sys.exit(f"{name}: only {colours} colours")
        print(f"{name}: {size} bytes, {pixels.shape[1]}x{pixels.shape[0]}, {colours}+ colours")
