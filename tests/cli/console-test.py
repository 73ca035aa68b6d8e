#!/usr/bin/env python3
"""Tests of x86irq-run --console on a pseudo-terminal (TAP): raw mode, the Ctrl-A escapes, the
terminal restored at exit and on SIGTERM. Arguments: RUNNER UART_ELF (the uart guest, whose
`-- echo` mode prints every received byte as [xx] and exits 0 on 'q')."""
import os
import pty
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

    def __init__(self):
        self.master, self.slave = pty.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.process = subprocess.Popen(
            [runner, "--console", guest, "--", "echo"], stdin=self.slave, stdout=self.slave,
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


print("1..9")

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

sys.exit(0 if all(results) else 1)
