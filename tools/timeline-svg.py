#!/usr/bin/env python3
"""Draw a window of an x86irq-run --perfetto timeline as an SVG picture, for documents.

ui.perfetto.dev is the place to explore a timeline; this draws a fixed window of one the same
way (a band per CPU, a row per track, slices nested by depth, coloured by what they are: an
interrupt or exception handler, or one of Linux's phases) so that docs can show it as an image
anyone can open. Python's standard library only.

  tools/timeline-svg.py TIMELINE.json OUT.svg [--from US] [--to US]
                        [--around REGEX [--before US] [--after US] [--nth N]]
                        [--tracks REGEX] [--width PX] [--title TEXT]

--around: the window around the Nth slice (default the first) whose name matches REGEX
(Python's re.search), from --before microseconds before its start to --after after it.
--tracks: only the tracks (threads) whose name matches; tracks without a slice in the window
are left out. Exit status 0, or 1 with a message for a file that is not a timeline, a window
with nothing in it, or a bad option.
"""
import argparse
import json
import re
import sys
from xml.sax.saxutils import escape

# a slice's fill: by phase on a phases track, by category (handler kind) elsewhere
PHASE_COLOURS = {
    "critical": "#d62728",
    "immediate": "#ff7f0e",
    "softirq": "#2ca02c",
    "tasklet": "#17becf",
    "workqueue": "#9467bd",
    "process": "#c7c7c7",
}
CATEGORY_COLOURS = {"interrupt": "#1f77b4", "exception": "#8c564b", "nmi": "#e377c2"}
DEFAULT_COLOUR = "#7f7f7f"

ROW = 18          # one nesting level
TRACK_GAP = 6
LABEL_WIDTH = 190
AXIS = 28


def fail(message):
    print("timeline-svg: " + message, file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (path, e))
    events = data.get("traceEvents") if isinstance(data, dict) else data
    if not isinstance(events, list):
        fail("%s: no traceEvents list (not a Chrome trace JSON timeline)" % path)
    return events


def slices_of(events):
    """(processes, threads, slices): names by pid and by (pid, tid); every slice as
    (pid, tid, start, end, depth, name, category) from B/E pairs and X events"""
    processes, threads, order = {}, {}, {}
    stacks, slices = {}, []
    for e in events:
        if not isinstance(e, dict):
            continue
        ph, pid, tid = e.get("ph"), e.get("pid"), e.get("tid")
        key = (pid, tid)
        if ph == "M":
            args = e.get("args") or {}
            if e.get("name") == "process_name":
                processes[pid] = str(args.get("name", pid))
            elif e.get("name") == "process_sort_index":
                order[pid] = args.get("sort_index", 0)
            elif e.get("name") == "thread_name":
                threads[key] = str(args.get("name", tid))
            continue
        ts = e.get("ts")
        if not isinstance(ts, (int, float)):
            continue
        if ph == "B":
            stacks.setdefault(key, []).append((ts, e.get("name", ""), e.get("cat", "")))
        elif ph == "E":
            stack = stacks.get(key)
            if stack:
                start, name, cat = stack.pop()
                slices.append((pid, tid, start, ts, len(stack), name, cat))
        elif ph == "X":
            dur = e.get("dur", 0)
            depth = len(stacks.get(key, []))
            slices.append((pid, tid, ts, ts + (dur if isinstance(dur, (int, float)) else 0),
                           depth, e.get("name", ""), e.get("cat", "")))
    # slices still open at the end of the timeline run to its end
    last = max((s[3] for s in slices), default=0)
    for (pid, tid), stack in stacks.items():
        for depth, (start, name, cat) in enumerate(stack):
            slices.append((pid, tid, start, max(last, start), depth, name, cat))
    return processes, order, threads, slices


def colour(track_name, name, cat):
    if track_name.endswith("phases"):
        return PHASE_COLOURS.get(name.split()[0] if name else "", DEFAULT_COLOUR)
    return CATEGORY_COLOURS.get(cat, DEFAULT_COLOUR)


def main():
    p = argparse.ArgumentParser(description="Draw a window of an x86irq-run --perfetto "
                                "timeline as SVG.")
    p.add_argument("timeline")
    p.add_argument("out")
    p.add_argument("--from", dest="start", type=float)
    p.add_argument("--to", dest="end", type=float)
    p.add_argument("--around")
    p.add_argument("--nth", type=int, default=1)
    p.add_argument("--before", type=float, default=50.0)
    p.add_argument("--after", type=float, default=200.0)
    p.add_argument("--tracks")
    p.add_argument("--width", type=int, default=1100)
    p.add_argument("--title", default="")
    a = p.parse_args()
    if a.nth < 1 or a.width < LABEL_WIDTH + 100 or a.before < 0 or a.after <= 0:
        fail("--nth must be at least 1, --width at least %d, --before >= 0, --after > 0"
             % (LABEL_WIDTH + 100))

    processes, order, threads, slices = slices_of(load(a.timeline))
    if not slices:
        fail("%s: no slices" % a.timeline)
    try:
        around = re.compile(a.around) if a.around else None
        tracks = re.compile(a.tracks) if a.tracks else None
    except re.error as e:
        fail("bad regular expression: %s" % e)

    start = min(s[2] for s in slices) if a.start is None else a.start
    end = max(s[3] for s in slices) if a.end is None else a.end
    if around:
        hits = sorted(s[2] for s in slices if around.search(s[5]))
        if len(hits) < a.nth:
            fail("%d slice(s) match --around %r, not %d" % (len(hits), a.around, a.nth))
        start, end = hits[a.nth - 1] - a.before, hits[a.nth - 1] + a.after
    if end <= start:
        fail("the window is empty (from %g to %g us)" % (start, end))

    def track_name(pid, tid):
        return threads.get((pid, tid), "thread %s" % tid)

    shown = [s for s in slices if s[3] >= start and s[2] <= end and
             (not tracks or tracks.search(track_name(s[0], s[1])))]
    if not shown:
        fail("nothing in the window from %.3f to %.3f us" % (start, end))

    # bands: a CPU (process) each, in their sort order; rows: its tracks, each as deep as its
    # deepest slice in the window
    keys = sorted({(s[0], s[1]) for s in shown},
                  key=lambda k: (order.get(k[0], k[0]), k[0], track_name(*k)))
    depth = {}
    for s in shown:
        depth[(s[0], s[1])] = max(depth.get((s[0], s[1]), 0), s[4] + 1)
    y, top = AXIS + (22 if a.title else 0), {}
    for k in keys:
        top[k] = y
        y += depth[k] * ROW + TRACK_GAP
    legend_y = y + 14
    height = legend_y + 12
    plot = a.width - LABEL_WIDTH - 10

    def x(t):
        return LABEL_WIDTH + (min(max(t, start), end) - start) * plot / (end - start)

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (a.width, height),
           '<rect width="100%" height="100%" fill="white"/>']
    if a.title:
        out.append('<text x="4" y="16" font-size="13" font-weight="bold">%s</text>'
                   % escape(a.title))
    # the time axis, in microseconds from the window's start
    axis_y = AXIS + (22 if a.title else 0) - 8
    for i in range(6):
        t = start + (end - start) * i / 5
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                   % (x(t), axis_y, x(t), legend_y - 14))
        out.append('<text x="%.1f" y="%d" text-anchor="middle" fill="#555">+%.1f us</text>'
                   % (x(t), axis_y - 3, t - start))
    previous_pid = None
    for k in keys:
        pid, tid = k
        name = track_name(pid, tid)
        cpu = processes.get(pid, "pid %s" % pid)
        if pid != previous_pid:
            out.append('<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
                       % (top[k] - 3, a.width, top[k] - 3))
            previous_pid = pid
        label = name if name.startswith(cpu) else "%s: %s" % (cpu, name)
        out.append('<text x="4" y="%d">%s</text>' % (top[k] + 13, escape(label)))
    for s in sorted(shown, key=lambda s: (s[4], s[2])):
        pid, tid, s0, s1, d, name, cat = s
        k = (pid, tid)
        x0, x1 = x(s0), x(s1)
        w = max(x1 - x0, 1.0)
        yy = top[k] + d * ROW
        fill = colour(track_name(pid, tid), name, cat)
        out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="white" '
                   'stroke-width="0.5"><title>%s (%.3f us)</title></rect>'
                   % (x0, yy, w, ROW - 2, fill, escape(name), s1 - s0))
        if w > 6 * len(name) + 6:
            out.append('<text x="%.1f" y="%d" fill="white">%s</text>'
                       % (x0 + 3, yy + 12, escape(name)))
        elif w > 30:
            room = int((w - 6) / 6)
            out.append('<text x="%.1f" y="%d" fill="white">%s</text>'
                       % (x0 + 3, yy + 12, escape(name[:room])))
    # the legend: what the colours are
    lx = 4
    for label, fill in (list(CATEGORY_COLOURS.items()) + list(PHASE_COLOURS.items())):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
                   % (lx, legend_y - 9, fill))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 13, legend_y, escape(label)))
        lx += 13 + 7 * len(label) + 14
    out.append("</svg>")
    try:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
    except OSError as e:
        fail("%s: %s" % (a.out, e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
