#!/usr/bin/env python3
"""Interrupt latencies and nesting of a bundled guest, drawn with matplotlib.

Runs examples/guests/nic-bottom-half (an e1000 driver with Linux's critical, immediate and
deferred phases) on libx86irq, feeds its NIC frames at random (Poisson) times from Python
through scheduled events, and follows every interrupt with the trace hook. Writes:

  latency-histograms.png  per vector: assert->entry (the IRR latch to the handler's first
                          instruction) and entry->IRET (the handler's whole run, softirqs and
                          time on other threads included), as histograms
  nesting-timeline.png    the events in service over the whole run, and a window around the
                          first nested interrupt: each handler as a bar from entry to IRET, one
                          row per nesting level

and prints the latency table (cycles; 1 cycle is 1 ns at the default 1 GHz clock).

    PYTHONPATH=python X86IRQ_LIBRARY=build/src/libx86irq.so.0 \\
        python3 examples/python/latency_plot.py --out /tmp/plots

docs/python.md shows the timeline and explains it.
"""

import argparse
import collections
import dataclasses
import os
import random
import sys

import matplotlib
matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt
import numpy as np

import x86irq
from x86irq import TraceKind

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_GUEST = os.path.join(HERE, "..", "..", "build", "examples", "guests",
                             "nic-bottom-half.elf")
NIC_MAC = bytes.fromhex("525400123456")
PEER_MAC = bytes.fromhex("525400000001")


@dataclasses.dataclass
class Span:
    """One handler: delivery (entry) to its IRET, at a nesting level of its thread's; running
    while its thread runs (segments), suspended while the guest runs another thread."""
    vector: int
    entry: int
    level: int
    thread: int
    segments: list
    exit: int = None


@dataclasses.dataclass
class VectorStats:
    """The latency figures of one vector, as plain data."""
    vector: int
    count: int
    min: int
    p50: int
    p90: int
    p99: int
    max: int

    @classmethod
    def of(cls, vector, values):
        v = np.array(values)
        p50, p90, p99 = (int(x) for x in np.percentile(v, [50, 90, 99], method="lower"))
        return cls(vector, len(v), int(v.min()), p50, p90, p99, int(v.max()))


class Recorder:
    """Pairs the trace events into latencies and handler spans. Keeps a stack of handlers in
    service per guest thread (the guest switches threads inside interrupts: an IRET belongs to
    the thread that took the interrupt) and the first IRR latch per vector not yet delivered."""

    def __init__(self):
        self.assert_to_entry = collections.defaultdict(list)
        self.entry_to_iret = collections.defaultdict(list)
        self.depth = [(0, 0)]  # (cycle, events in service after it)
        self.spans = []
        self.thread = 0
        self.stacks = collections.defaultdict(list)
        self.latched = {}

    def __call__(self, e):
        if e.kind == TraceKind.IRR:
            self.latched.setdefault((e.core, e.vector), e.cycle)
        elif e.kind == TraceKind.SWITCH:
            for span in self.stacks[self.thread]:  # suspended
                span.segments[-1][1] = e.cycle
            self.thread = e.thread
            for span in self.stacks[self.thread]:  # running again
                span.segments.append([e.cycle, None])
        elif e.kind == TraceKind.DELIVER:
            if e.origin == x86irq.EventOrigin.HARDWARE:
                raised = self.latched.pop((e.core, e.vector), None)
                if raised is not None:
                    self.assert_to_entry[e.vector].append(e.cycle - raised)
            stack = self.stacks[self.thread]
            stack.append(Span(e.vector, e.cycle, len(stack), self.thread, [[e.cycle, None]]))
        elif e.kind == TraceKind.IRET:
            stack = self.stacks[self.thread]
            if stack:
                span = stack.pop()
                span.exit = span.segments[-1][1] = e.cycle
                self.entry_to_iret[span.vector].append(e.cycle - span.entry)
                self.spans.append(span)
        if e.kind in (TraceKind.DELIVER, TraceKind.IRET, TraceKind.SWITCH):
            self.depth.append((e.cycle, e.depth))

    def table(self):
        return {name: [VectorStats.of(v, values[v]) for v in sorted(values)]
                for name, values in (("assert->entry", self.assert_to_entry),
                                     ("entry->IRET", self.entry_to_iret))}


def frame(sequence, cycle, size=64):
    """A frame as x86irq-run --nic-traffic makes them: to the NIC from a peer, EtherType 0x88B5
    (local experimental), a sequence number, the arrival cycle, then a pattern."""
    head = NIC_MAC + PEER_MAC + b"\x88\xb5" + sequence.to_bytes(4, "big") + cycle.to_bytes(8, "big")
    return head + bytes(i & 0xFF for i in range(len(head), size))


def run(guest, frames, rate, seed):
    rng = random.Random(seed)
    recorder = Recorder()
    with x86irq.Machine(ram_size=64 << 20) as m:
        m.load_elf(guest)
        m.set_trace_hook(recorder, kinds=[TraceKind.IRR, TraceKind.DELIVER, TraceKind.IRET,
                                          TraceKind.SWITCH])
        sent = 0

        def arrive(machine):
            nonlocal sent
            machine.nic_receive(frame(sent, machine.cycles))
            sent += 1
            if sent < frames:
                gap = int(rng.expovariate(rate) * machine.cpu_hz)
                machine.schedule(machine.cycles + max(gap, 1), arrive)

        m.schedule(m.cpu_hz // 1000, arrive)  # 1 ms in: the driver is up by then
        reason = m.run(3_000_000_000)
        if reason != x86irq.StopReason.DEBUG_EXIT or m.exit_value != 0:
            sys.exit(f"latency_plot: the guest stopped with {reason.name}, "
                     f"value {m.exit_value}:\n{m.serial_output.decode(errors='replace')}")
        nic = m.nic_statistics()
        return recorder, nic, m.nesting_max_depth, m.cpu_hz


COLOURS = {}


def colour(vector):
    if vector not in COLOURS:
        COLOURS[vector] = plt.get_cmap("tab10")(len(COLOURS) % 10)
    return COLOURS[vector]


def plot_histograms(recorder, path):
    vectors = sorted(set(recorder.assert_to_entry) | set(recorder.entry_to_iret))
    fig, axes = plt.subplots(len(vectors), 2, figsize=(10, 2.6 * len(vectors) + 0.6),
                             squeeze=False, constrained_layout=True)
    for row, vector in enumerate(vectors):
        for col, (name, values) in enumerate((("assert->entry", recorder.assert_to_entry),
                                              ("entry->IRET", recorder.entry_to_iret))):
            ax = axes[row][col]
            data = np.array(values.get(vector, []))
            if len(data) == 0:
                ax.text(0.5, 0.5, "no events", ha="center", transform=ax.transAxes)
                ax.set_axis_off()
                continue
            # log bins: these spread over up to four decades (a 0 is drawn as 1 cycle)
            shown = np.maximum(data, 1)
            bins = np.logspace(np.log10(shown.min() / 1.5), np.log10(shown.max() * 1.5), 40)
            ax.hist(shown, bins=bins, color=colour(vector))
            ax.set_xscale("log")
            ax.set_title(f"vector {vector:#04x}: {name}  (n={len(data)}, "
                         f"p50={int(np.median(data))}, max={data.max()})", fontsize=9)
            ax.set_xlabel("cycles (log scale)")
            ax.set_ylabel("interrupts")
    fig.suptitle("nic-bottom-half under Poisson traffic: latencies per vector")
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_timeline(recorder, cpu_hz, path):
    us = 1e6 / cpu_hz
    fig, (whole, zoom) = plt.subplots(2, 1, figsize=(10, 6), constrained_layout=True,
                                      gridspec_kw={"height_ratios": [1, 2]})
    cycles, depth = zip(*recorder.depth)
    whole.step(np.array(cycles) * us, depth, where="post", color="black", linewidth=0.7)
    whole.set_ylabel("in service")
    whole.set_xlabel("microseconds")
    whole.set_title("events in service over the whole run")

    # The window: where the most handlers ran nested in others
    nested = [s.entry for s in recorder.spans if s.level > 0] or [recorder.spans[0].entry]
    before, after = 40_000, 160_000
    centre = max(nested, key=lambda c: sum(c - before <= n <= c + after for n in nested))
    lo, hi = centre - before, centre + after
    whole.axvspan(lo * us, hi * us, color="tab:orange", alpha=0.3)
    for s in recorder.spans:
        if s.exit < lo or s.entry > hi:
            continue
        # suspended (its thread switched out): a thin faint strip under the level's row, so the
        # other thread's handlers stay visible; running: a solid bar, at least a visible sliver
        # (a 2 us handler is 1% of the window)
        zoom.broken_barh([(max(s.entry, lo) * us, (min(s.exit, hi) - max(s.entry, lo)) * us)],
                         (s.level + 0.02, 0.12), color=colour(s.vector), alpha=0.5)
        for start, end in s.segments:
            if end < lo or start > hi:
                continue
            start, end = max(start, lo), min(end, hi)
            zoom.broken_barh([(start * us, max(end - start, 400) * us)], (s.level + 0.18, 0.72),
                             color=colour(s.vector))
    # the library's own depth (events in service) over the bars: the top of the stack
    window = [(c, d) for c, d in recorder.depth if lo <= c <= hi]
    if window:
        wc, wd = zip(*([(lo, window[0][1])] + window + [(hi, window[-1][1])]))
        zoom.step(np.array(wc) * us, wd, where="post", color="black", linewidth=0.8,
                  label="in service")
    zoom.set_xlim(lo * us, hi * us)
    levels = max([s.level for s in recorder.spans] + [0]) + 1
    zoom.set_ylim(0, levels + 0.3)
    zoom.set_yticks([i + 0.5 for i in range(levels)])
    zoom.set_yticklabels([f"level {i}" for i in range(levels)])
    zoom.set_xlabel("microseconds")
    zoom.set_title("handlers from entry to IRET, by nesting level (thin: suspended while "
                   "the guest runs another thread)", fontsize=10)
    vectors = sorted({s.vector for s in recorder.spans})
    zoom.legend(handles=[matplotlib.patches.Patch(color=colour(v), label=f"vector {v:#04x}")
                         for v in vectors] + zoom.get_lines(), loc="upper right", fontsize=8)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guest", default=os.environ.get("X86IRQ_GUEST_NIC_BOTTOM_HALF",
                                                          DEFAULT_GUEST),
                        help="nic-bottom-half.elf (default: the build tree's)")
    parser.add_argument("--out", default=".", help="directory for the PNG files")
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--rate", type=float, default=150_000, help="frames per second")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    recorder, nic, deepest, cpu_hz = run(args.guest, args.frames, args.rate, args.seed)
    os.makedirs(args.out, exist_ok=True)
    plot_histograms(recorder, os.path.join(args.out, "latency-histograms.png"))
    plot_timeline(recorder, cpu_hz, os.path.join(args.out, "nesting-timeline.png"))

    print(f"NIC: {nic.received} frames received, {nic.transmitted} sent, "
          f"{nic.no_descriptors} missed for want of descriptors; deepest nesting {deepest}")
    print(f"{'latency':14} {'vector':>6} {'count':>6} {'min':>8} {'p50':>8} {'p90':>8} "
          f"{'p99':>8} {'max':>8}  (cycles)")
    for name, rows in recorder.table().items():
        for r in rows:
            print(f"{name:14} {r.vector:#6x} {r.count:6} {r.min:8} {r.p50:8} {r.p90:8} "
                  f"{r.p99:8} {r.max:8}")
    print(f"wrote {args.out}/latency-histograms.png and {args.out}/nesting-timeline.png")


if __name__ == "__main__":
    main()
