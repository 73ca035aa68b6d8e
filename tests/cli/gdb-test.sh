#!/bin/sh
# The GDB remote stub (x86irq-run --gdb, src/gdb) with the real gdb in batch mode (TAP): break
# at a symbol, continue, finish, registers and memory read and written, stepi, a watchpoint on
# a variable an interrupt handler changes, Ctrl-C (gdb's interrupt), the monitor commands,
# detach (the guest runs on to its exit status, which gdb's write chose), kill, threads as
# CPUs, a 64-bit guest, and reverse execution (reverse-stepi, reverse-continue).
# Arguments: RUNNER GDB_TARGET_ELF SMP_IPI_2_ELF ELF64_GUEST
run=$1 target=$2 smp=$3 elf64=$4
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${server:-}" ] && kill "$server" 2>/dev/null' EXIT
if ! command -v gdb >/dev/null 2>&1; then
    echo "1..0 # SKIP gdb is not installed (Debian package gdb)"
    exit 0
fi
echo "1..50"
check() { # description, expected, actual
    n=$((n + 1))
    if [ "$2" = "$3" ]; then echo "ok $n - $1"; else echo "not ok $n - $1 (got '$3', expected '$2')"; failed=1; fi
}
check_grep() { # description, pattern, file
    n=$((n + 1))
    if grep -q -- "$2" "$3"; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/# /' "$3" | tail -20; failed=1; fi
}
# start the runner with --gdb on a free port; its port in $port, its pid in $server
start() { # runner arguments...
    : >"$tmp/server.err"
    timeout 120 "$run" --gdb=tcp::0 "$@" >"$tmp/server.out" 2>"$tmp/server.err" &
    server=$!
    port=
    for _ in $(seq 1 100); do
        port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\) (target.*/\1/p' "$tmp/server.err")
        [ -n "$port" ] && break
        sleep 0.05
    done
}
finish_server() { # the runner's exit status in $status
    wait "$server"
    status=$?
    server=
}
gdb_batch() { # ELF, output file, gdb commands (one per argument)
    elf=$1 out=$2
    shift 2
    set -- -ex "set pagination off" -ex "set confirm off" -ex "target remote 127.0.0.1:$port" "$@"
    timeout 120 gdb -q -batch -nx "$@" "$elf" >"$out" 2>&1
}

# --- a whole session on the 32-bit guest
start --gdb-wait "$target"
gdb_batch "$target" "$tmp/a" \
    -ex "p/x \$eip" \
    -ex "break marker" -ex "continue" -ex "p \$pc == (unsigned)&marker" \
    -ex "finish" \
    -ex "p exit_code" -ex "set var exit_code = 40" -ex "p exit_code" \
    -ex "set \$ebx = 0x12345678" -ex "p/x \$ebx" \
    -ex "p/x \$cr0" -ex "p \$eflags" \
    -ex "stepi" -ex "p/x \$pc != (unsigned)&marker" \
    -ex "delete" -ex "watch ticks" -ex "continue" -ex "bt 1" -ex "delete" \
    -ex "monitor help" -ex "monitor lapic" -ex "monitor idt 49" -ex "monitor cycles" \
    -ex "monitor cpus" -ex "monitor events" -ex "monitor ioapic" -ex "monitor phys 0x10000c 4" \
    -ex "info threads" \
    -ex "set var release = 1" -ex "detach"
finish_server
check_grep "gdb connects before the first instruction: EIP at _start" '0x10000c' "$tmp/a"
check_grep "a breakpoint at a symbol stops there" 'Breakpoint 1, marker' "$tmp/a"
check_grep "the stop is exactly at the symbol" '\$[0-9]* = 1' "$tmp/a"
check_grep "finish runs to the caller and shows the return value" 'Value returned is \$[0-9]* = 2' "$tmp/a"
check_grep "a variable is read" '\$[0-9]* = 7' "$tmp/a"
check_grep "and written" '\$[0-9]* = 40' "$tmp/a"
check_grep "a register is written and read back" '0x12345678' "$tmp/a"
check_grep "the control registers are there (CR0: PE, ET)" '\$[0-9]* = 0x11' "$tmp/a"
check_grep "EFLAGS by its flags" '\[ .*IF' "$tmp/a"
check_grep "a watchpoint on what the interrupt handler changes" 'Old value = ' "$tmp/a"
check_grep "stops in the handler" 'on_tick (f=' "$tmp/a"
check_grep "monitor help lists the commands" 'monitor lapic' "$tmp/a"
check_grep "monitor lapic: the periodic timer's LVT entry, vector 49" 'LVT timer .*vector 49, periodic' "$tmp/a"
check_grep "monitor idt: vector 49's gate" ' 49: interrupt gate 0008:' "$tmp/a"
check_grep "monitor cycles" 'machine: cycle [0-9]*, [0-9]* instructions' "$tmp/a"
check_grep "monitor cpus: mode and symbol" 'CPU 0 (gdb.s): running, protected mode' "$tmp/a"
check_grep "monitor ioapic: the redirection table" 'pin 23: vector' "$tmp/a"
check_grep "monitor phys: physical memory" '000000000010000c:' "$tmp/a"
check "after detach the guest runs on and exits with the value gdb wrote" 40 "$status"

# --- monitor snapshot / restore: back to the breakpoint, the handler's count as it was there
start --gdb-wait "$target"
gdb_batch "$target" "$tmp/s" \
    -ex "break marker" -ex "continue" -ex "delete" -ex "monitor snapshot at-marker" \
    -ex "p ticks == 0" -ex "watch ticks" -ex "continue" -ex "continue" -ex "delete" \
    -ex "p ticks >= 2" -ex "monitor snapshots" -ex "monitor restore at-marker" \
    -ex "maintenance flush register-cache" -ex "p ticks == 0" \
    -ex "p \$pc == (unsigned)&marker" -ex "monitor restore nothing" \
    -ex "set var release = 1" -ex "detach"
finish_server
check_grep "monitor snapshot saves the machine at the breakpoint" 'snapshot at-marker: cycle [0-9]*, [0-9]* bytes' "$tmp/s"
check_grep "monitor snapshots lists it" '^at-marker  *cycle ' "$tmp/s"
check_grep "monitor restore goes back to it" 'restored at-marker: cycle' "$tmp/s"
check "the handler's count and the PC are as they were at the snapshot" "1 1 1 1" \
    "$(grep -c '^\$[0-9]* = 1$' "$tmp/s" | sed 's/^4$/1 1 1 1/')"
check_grep "a snapshot that does not exist: said" 'no snapshot named nothing' "$tmp/s"
check "restored, the guest runs on to its own exit status" 7 "$status"

# --- reverse execution: back one instruction, back to the last watchpoint and breakpoint hits,
# to the beginning of the history; then forward again to the same end
start --gdb-wait "$target"
gdb_batch "$target" "$tmp/r" \
    -ex "break marker" -ex "continue" -ex "delete" \
    -ex "stepi" -ex "stepi" -ex "set \$after2 = \$pc" -ex "stepi" -ex "set \$after3 = \$pc" \
    -ex "reverse-stepi" -ex "echo RS:" -ex "p \$pc == \$after2" \
    -ex "stepi" -ex "echo FS:" -ex "p \$pc == \$after3" \
    -ex "watch ticks" -ex "continue" -ex "continue" -ex "continue" -ex "echo T3:" -ex "p ticks" \
    -ex "reverse-continue" -ex "echo T2:" -ex "p ticks" -ex "delete" \
    -ex "break marker" -ex "reverse-continue" -ex "echo BM:" -ex "p \$pc == (unsigned)&marker" \
    -ex "echo T0:" -ex "p ticks" -ex "reverse-continue" -ex "delete" \
    -ex "set var release = 1" -ex "detach"
finish_server
check_grep "reverse-stepi goes back one instruction" 'RS:\$[0-9]* = 1' "$tmp/r"
check_grep "stepi from there comes to the same instruction again" 'FS:\$[0-9]* = 1' "$tmp/r"
check_grep "three ticks forward" 'T3:\$[0-9]* = 3' "$tmp/r"
check_grep "reverse-continue stops at the last watchpoint hit before" 'T2:\$[0-9]* = 2' "$tmp/r"
check_grep "gdb sees the write undone" 'Old value = 3' "$tmp/r"
check_grep "reverse-continue to the breakpoint at marker" 'BM:\$[0-9]* = 1' "$tmp/r"
check_grep "where no tick had come yet" 'T0:\$[0-9]* = 0' "$tmp/r"
check_grep "and back to the beginning of the history" 'No more reverse-execution history' "$tmp/r"
check "gone back and forth, the guest runs on to its own exit status" 7 "$status"

# --- gdb's interrupt (Ctrl-C: the byte 0x03) while the guest runs, from a client of our own
# (rsp-client.py): gdb -batch does not wait for the stop of a background command
client="$(dirname "$0")/rsp-client.py"
start --gdb-wait "$target"
python3 "$client" "$port" '!c' sleep:0.5 interrupt "qRcmd,$(printf cycles | od -An -tx1 | tr -d ' \n')" \
    '!k' >"$tmp/i" 2>&1
finish_server
check_grep "gdb's interrupt (0x03) stops the running guest with SIGINT" 'interrupt -> T02thread:1;' "$tmp/i"
check_grep "after it ran for a while" 'machine: cycle [0-9][0-9][0-9][0-9][0-9][0-9]' "$tmp/i"

# --- a debugger's stops change nothing, with two CPUs too: a session that stops five times at a
# breakpoint on CPU 1, steps each CPU and runs in the stub's slices of a million cycles gives
# the trace events and output of a run without gdb, byte for byte
"$run" --smp=2 --trace-events="$tmp/plain.events" "$smp" >"$tmp/plain.out" 2>/dev/null
ping=$(nm "$smp" | awk '$3 == "on_ping" { print $1; exit }')
start --gdb-wait --smp=2 --trace-events="$tmp/gdb.events" "$smp"
python3 "$client" "$port" "Z0,$ping,1" c c c c c 'vCont;s:2;c' 'vCont;s:2;c' 'vCont;s:1;c' \
    "z0,$ping,1" c >"$tmp/n" 2>&1
finish_server
cp "$tmp/server.out" "$tmp/gdb.out"
check_grep "the session stops on CPU 1 at the breakpoint" 'c -> T05thread:2;swbreak:;' "$tmp/n"
check_grep "and runs on to the guest's exit" 'c -> W00' "$tmp/n"
check "its trace events are those of the run without gdb" same \
    "$(cmp -s "$tmp/plain.events" "$tmp/gdb.events" && echo same || echo different)"
check "and so is its output" same "$(cmp -s "$tmp/plain.out" "$tmp/gdb.out" && echo same || echo different)"

# --- kill
start --gdb-wait "$target"
gdb_batch "$target" "$tmp/k" -ex "kill"
finish_server
check "kill from gdb ends the runner (status 121)" 121 "$status"
check_grep "and it says so" 'killed from gdb' "$tmp/server.err"

# --- threads are CPUs: a breakpoint in a handler that CPU 1 runs
start --gdb-wait --smp=2 "$smp"
gdb_batch "$smp" "$tmp/s" -ex "info threads" -ex "break on_ping" -ex "continue" \
    -ex "monitor lapic 1" -ex "delete" -ex "info threads" -ex "kill"
finish_server
check_grep "two CPUs, two threads" 'Thread 2 (CPU 1, wait-for-sipi)' "$tmp/s"
check_grep "the AP's breakpoint stops thread 2" 'Thread 2 .*hit Breakpoint 1, on_ping' "$tmp/s"
check_grep "its LAPIC has the ping in service" 'ISR: 64' "$tmp/s"

# --- a 64-bit guest: x86-64 registers
start --gdb-wait "$elf64"
gdb_batch "$elf64" "$tmp/l" -ex "show architecture" -ex "p/x \$rip" -ex "p sizeof(\$rax)" \
    -ex "p/x \$efer" -ex "stepi" -ex "p/x \$rip" -ex "kill"
finish_server
check_grep "a 64-bit guest is debugged as i386:x86-64" 'i386:x86-64' "$tmp/l"
check_grep "with 64-bit registers" '\$[0-9]* = 8' "$tmp/l"

# --- bad options: usage errors, nothing run
"$run" --gdb=tcp::99999 "$target" >"$tmp/u" 2>&1
check "--gdb with a port beyond 65535 is a usage error" 64 $?
"$run" --gdb-wait "$target" >"$tmp/u" 2>&1
check "--gdb-wait without --gdb is a usage error" 64 $?
"$run" --gdb=tcp:localhost:1234 "$target" >"$tmp/u" 2>&1
check "--gdb with a host that is not an IPv4 address is a usage error" 64 $?
exit $failed
