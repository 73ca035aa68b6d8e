#!/usr/bin/env python3
"""A small GDB remote protocol client for the stub's tests (tests/cli/gdb-test.sh): where
gdb's batch mode cannot go (its interrupt, exact packet sequences). Usage:
  rsp-client.py PORT COMMAND...
COMMAND: a packet, sent and answered (console output packets 'O...' are collected and printed
as text); '!PACKET' sent without waiting; 'sleep:SECONDS'; 'interrupt' (the byte 0x03, then
the stop reply). Each answer is printed on a line: 'PACKET -> REPLY'."""
import socket
import sys
import time

sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.settimeout(60)
buffered = b""


def send(payload):
    sock.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xFF))


def packet():
    """The next packet's payload, acknowledged"""
    global buffered
    while True:
        start = buffered.find(b"$")
        end = buffered.find(b"#", start + 1) if start >= 0 else -1
        if end >= 0 and len(buffered) >= end + 3:
            payload, buffered = buffered[start + 1:end], buffered[end + 3:]
            sock.sendall(b"+")
            return payload
        data = sock.recv(65536)
        if not data:
            raise EOFError("the stub closed the connection")
        buffered += data


def answer():
    text = b""
    while True:
        p = packet()
        if p.startswith(b"O") and p != b"OK":
            text += bytes.fromhex(p[1:].decode())
            continue
        return p, text


for command in sys.argv[2:]:
    if command.startswith("sleep:"):
        time.sleep(float(command[6:]))
        continue
    if command == "interrupt":
        sock.sendall(b"\x03")
        reply, text = answer()
    elif command.startswith("!"):
        send(command[1:].encode())
        continue
    else:
        send(command.encode())
        if command in ("k",):
            continue
        reply, text = answer()
    if text:
        sys.stdout.write(text.decode(errors="replace"))
    print("%s -> %s" % (command, reply.decode(errors="replace")))
    sys.stdout.flush()
