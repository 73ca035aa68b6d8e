#!/bin/sh
# Tests of x86irq-run's NIC options (TAP): --nic-tx writes the transmitted frame to a pcap
# file, --nic-rx replays a capture at its timestamps; the report's NIC account (x86irq_nic_get_statistics)
# places every frame: received or dropped for a cause. Arguments: RUNNER NIC_ELF
run=$1 nic=$2
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..5"
check() { # description, expected status, actual status
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (status $3, expected $2)"; failed=1; fi
}
"$run" --quiet --max-cycles=2000000000 --nic-traffic=10000,64,20 --nic-tx="$tmp/tx.pcap" "$nic" >/dev/null 2>&1
check "the driver guest passes with generated traffic" 0 $?
# 24-byte header, one record: 16 bytes + a 64-byte frame
check "--nic-tx: one 64-byte frame in the pcap file" 104 "$(wc -c <"$tmp/tx.pcap" | tr -d ' ')"
# the same 20 frames as a capture, 100 us apart from 100 us: the guest sees the same traffic
python3 - "$tmp/rx.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 16384, 1))
    for n in range(20):
        frame = bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x52, 0x54, 0, 0, 0, 1, 0x88, 0xB5])
        frame += struct.pack(">I", n) + bytes(i & 0xFF for i in range(18, 64))
        us = 100 * (n + 1)
        f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(frame), len(frame)) + frame)
PY
"$run" --quiet --max-cycles=2000000000 --nic-rx="$tmp/rx.pcap" "$nic" >/dev/null 2>&1
check "--nic-rx: a replayed capture reaches the driver in order" 0 $?
printf 'garbage' >"$tmp/bad.pcap"
"$run" --quiet --max-cycles=2000000000 --nic-rx="$tmp/bad.pcap" "$nic" >"$tmp/out" 2>&1
check "--nic-rx with a file that is not a capture is a usage error" 64 $?
# 300 frames 0.5 us apart: most arrive before the driver enables its receiver or while its ring
# is full (the guest fails its own checks, as it should); the NIC's account places every one
"$run" --quiet --max-cycles=2000000000 --nic-traffic=2000000,64,300 --report="$tmp/r.json" "$nic" >/dev/null 2>&1
python3 - "$tmp/r.json" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))["nic"]
d = n["drops"]
placed = n["received"] + sum(v for k, v in d.items() if k != "transmit")
sys.exit(0 if n["frames_in"] == 300 and placed == 300 and n["dropped"] == 300 - n["received"]
         and d["receiver_disabled"] > 0 and d["no_descriptors"] > 0 and n["received"] > 0
         and n["transmitted"] == n["frames_out"] == 1 and d["transmit"] == 0 else 1)
PY
check "--report: each of 300 frames received or dropped for its cause (receiver off, ring full)" 0 $?
exit $failed
