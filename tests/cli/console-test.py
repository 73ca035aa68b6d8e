#!/usr/bin/env python3
"""Tests of x86irq-run --console on a pseudo-terminal (TAP): raw mode, the Ctrl-A escapes, the
terminal restored at exit and on SIGTERM; --record and --replay of a session typed on it. Arguments: RUNNER UART_ELF (the uart guest, whose
`-- echo` mode prints every received byte as [xx] and exits 0 on 'q')."""
import os
import pty
import re
import tempfile
import select
import signal
import subprocess
import sys
import termios
import time

runner, guest = sys.argv[1], sys.argv[2]
results = []


def check(condition, description, detail=""):
    results.append(bool(condition))
    print(("ok" if condition else "not ok") + " %d - %s" % (len(results), description))
    if not condition and detail:
        for line in detail.splitlines()[-8:]:
            print("# " + line)


class Session:
    """x86irq-run --console on a new pty: the slave is its stdin, stdout and stderr."""

    def __init__(self, options=()):
        self.master, self.slave = pty.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.process = subprocess.Popen(
            [runner, "--console", *options, guest, "--", "echo"], stdin=self.slave, stdout=self.slave,
            stderr=self.slave, start_new_session=True)
        self.output = b""

    def read_until(self, text, timeout=20.0):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.master, 4096)
                except OSError:
                    break
        return text.encode() in self.output

    def type(self, data):
        os.write(self.master, data)

    def wait(self, timeout=20.0):
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait()
        self.read_until("\0", 0.2)  # whatever is left
        return status

    def restored(self):
        now = termios.tcgetattr(self.slave)
        return now[3] == self.before[3] and now[0] == self.before[0]  # lflag, iflag

    def close(self):
        os.close(self.master)
        os.close(self.slave)

    def text(self):
        return self.output.decode(errors="replace")


print("1..17")

s = Session()
ready = s.read_until("Ctrl-A x quits") and s.read_until("echo: ready")
check(ready, "the console starts in raw mode and the guest is ready", s.text())
s.type(b"a\r\x03")
check(s.read_until("[61]") and s.read_until("[0d]") and s.read_until("[03]"),
      "bytes reach the guest as typed: CR untranslated, Ctrl-C not a signal", s.text())
s.type(b"\x01\x01b")
s.read_until("[62]")
check("[01]\r\n[62]" in s.text() and s.text().count("[01]") == 1,
      "Ctrl-A Ctrl-A sends one Ctrl-A", s.text())
s.type(b"\x01h")
check(s.read_until("send Ctrl-A to the guest"), "Ctrl-A h prints the escapes", s.text())
s.type(b"\x01x")
status = s.wait()
check(status == 121, "Ctrl-A x quits with status 121 (got %s)" % status, s.text())
check(s.restored(), "the terminal settings are restored after the quit")
s.close()

s = Session()
s.read_until("echo: ready")
s.type(b"q")
status = s.wait()
check(status == 0 and "[71]" in s.text(), "the guest's own exit (status %s)" % status, s.text())
s.close()

s = Session()
s.read_until("echo: ready")
s.process.send_signal(signal.SIGTERM)
status = s.wait()
check(status == -signal.SIGTERM, "SIGTERM ends the run by the signal (%s)" % status)
check(s.restored(), "and the terminal settings are restored")
s.close()

# --- record a session typed by hand (with pauses: the input lands where the host's clock
# put it), replay it: the same bytes at the same cycles, the same trace, byte for byte
work = tempfile.mkdtemp()
record = os.path.join(work, "session.rec")
events = [os.path.join(work, name) for name in ("recorded.events", "replayed.events")]
s = Session(["--record=" + record, "--trace-events=" + events[0]])
s.read_until("echo: ready")
for key in (b"h", b"i", b"\x01\x01", b"!"):
    s.type(key)
    time.sleep(0.15)
s.type(b"q")
status = s.wait()
typed = re.findall(r"\[[0-9a-f]{2}\]", s.text())
check(status == 0 and typed == ["[68]", "[69]", "[01]", "[21]", "[71]"],
      "a session typed on the console with --record (status %s)" % status, s.text())
s.close()


def replay(*options, args=("--", "echo")):
    return subprocess.run([runner, *options, guest, *args], capture_output=True, text=True,
                          timeout=60)


r = replay("--replay=" + record, "--trace-events=" + events[1])
check(r.returncode == 0 and re.findall(r"\[[0-9a-f]{2}\]", r.stdout) == typed,
      "--replay gives the guest the same bytes, with no terminal (status %s)" % r.returncode,
      r.stdout + r.stderr)
check(open(events[0], "rb").read() == open(events[1], "rb").read(),
      "and the same trace events, byte for byte")
r = replay("--replay=" + record, args=("--", "echo", "other"))
check(r.returncode == 64 and "fingerprints differ" in r.stderr,
      "a replay with another command line is refused", r.stderr)
data = open(record, "rb").read()
damaged = os.path.join(work, "damaged.rec")
open(damaged, "wb").write(data[:-5])
r = replay("--replay=" + damaged)
check(r.returncode == 64 and "past the file's end" in r.stderr, "a truncated recording is refused",
      r.stderr)
open(damaged, "wb").write(b"not a recording at all, just some bytes")
r = replay("--replay=" + damaged)
check(r.returncode == 64 and "not an x86irq-run record file" in r.stderr,
      "a file that is no recording is refused", r.stderr)
# a quit (Ctrl-A x) is input too: the replay quits at the same cycle
s = Session(["--record=" + record])
s.read_until("echo: ready")
s.type(b"z")
s.read_until("[7a]")
s.type(b"\x01x")
status = s.wait()
s.close()
r = replay("--replay=" + record)
check(status == 121 and r.returncode == 121 and "[7a]" in r.stdout,
      "a recorded quit replays as the same quit (status %s, replay %s)" % (status, r.returncode),
      r.stdout + r.stderr)
# a recording whose input comes later than the replayed machine allows: it diverged
rec = bytearray(open(record, "rb").read())
# the first record's cycle (after the 34-byte header and its kind byte), moved earlier by one
cycle = int.from_bytes(rec[35:43], "little")
rec[35:43] = (cycle - 1).to_bytes(8, "little")
open(damaged, "wb").write(bytes(rec))
r = replay("--replay=" + damaged)
check(r.returncode == 70 and "diverged" in r.stderr, "a replay that diverges says so (status %s)"
      % r.returncode, r.stderr)
sys.exit(0 if all(results) else 1)
