"""The Machine: lifetime, loading and running the bundled guests, registers, memory, errors."""
import struct

import pytest

import x86irq
from x86irq import Error, Status, StopReason


def elf_entry(path):
    with open(path, "rb") as f:
        header = f.read(0x1C)
    assert header[:4] == b"\x7fELF"
    return struct.unpack_from("<I", header, 0x18)[0]


# ------------------------------------------------------------------ lifetime

def test_context_manager_closes_and_double_close_is_harmless():
    with x86irq.Machine(ram_size=8 << 20) as m:
        assert not m.closed
        assert len(m.memory) == 8 << 20
    assert m.closed
    m.close()
    m.close()
    with pytest.raises(Error) as e:
        m.eax
    assert e.value.status == Status.ERR_STATE
    assert "closed" in e.value.message


def test_bad_configuration_raises_with_the_bounds():
    with pytest.raises(Error) as e:
        x86irq.Machine(ram_size=1024)
    assert e.value.status == Status.ERR_INVALID_ARGUMENT
    assert "RAM 1 MiB to 3 GiB: 1024" in str(e.value)
    with pytest.raises(Error):
        x86irq.Machine(cpus=65)


def test_several_cpus():
    with x86irq.Machine(ram_size=8 << 20, cpus=3) as m:
        assert [c.index for c in m.cpus] == [0, 1, 2]
        assert m.cpu(0).state == x86irq.CpuState.RUNNING
        # application processors wait for INIT and SIPI, as after a PC's reset
        assert m.cpu(1).state == x86irq.CpuState.WAITING_FOR_SIPI
        with pytest.raises(IndexError):
            m.cpu(3)


# ------------------------------------------------------------------ loading and running

def test_hello_runs_to_its_exit_with_its_serial_output(hello):
    chunks = []
    with x86irq.Machine(ram_size=32 << 20, serial=chunks.append) as m:
        m.load_elf(hello, "from pytest")
        assert m.run() == StopReason.DEBUG_EXIT
        assert m.stop_reason == StopReason.DEBUG_EXIT
        assert m.stop_reason.final
        assert m.exit_value == 0
        out = m.serial_output.decode()
        assert out.startswith("Hello from a guest on libx86irq!\n")
        assert "memory: 639 KiB below 1 MiB, 32 MiB in all\n" in out
        assert "boot loader: libx86irq\n" in out
        assert out.count("from pytest") == 1
        # the callable saw every byte, one at a time
        assert all(len(c) == 1 for c in chunks)
        assert b"".join(chunks) == m.serial_output
        assert m.instructions > 1000 and m.cycles > m.instructions
        # a final stop: the machine does not run again, and says why
        with pytest.raises(Error) as e:
            m.run()
        assert e.value.status == Status.ERR_STATE
        assert e.value.message


def test_a_budget_stops_the_run_and_the_next_run_goes_on(hello):
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(hello)
        assert m.run(2000) == StopReason.BUDGET
        assert 2000 <= m.cycles < 3000
        assert m.run() == StopReason.DEBUG_EXIT
        assert b"time stamp counter" in m.serial_output


def test_a_bad_elf_path_raises_with_the_librarys_message(machine):
    with pytest.raises(Error) as e:
        machine.load_elf("/nonexistent/guest.elf")
    assert e.value.status == Status.ERR_IO
    assert "/nonexistent/guest.elf" in e.value.message
    assert e.value.function == "x86irq_load_elf"
    with pytest.raises(Error) as e:
        machine.load_elf_bytes(b"not an ELF image at all", name="junk")
    assert e.value.status == Status.ERR_BAD_IMAGE
    assert "junk" in e.value.message


def test_load_linux_refuses_what_is_not_a_bzimage(machine, hello):
    with pytest.raises(Error) as e:
        machine.load_linux(hello, cmdline="console=ttyS0")
    assert e.value.status == Status.ERR_BAD_IMAGE
    assert e.value.message


def test_nothing_loaded_is_nothing_to_run(machine):
    with pytest.raises(Error) as e:
        machine.run(1000)
    assert e.value.status == Status.ERR_STATE


def test_a_triple_fault_gives_its_chain_of_events():
    from conftest import guest_path
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(guest_path("double-fault"))
        assert m.run() == StopReason.SHUTDOWN
        chain = m.shutdown_events()
        assert len(chain) >= 2
        assert any(r.origin == x86irq.EventOrigin.DOUBLE_FAULT and r.vector == 8 for r in chain)
        assert [r.cycle for r in chain] == sorted(r.cycle for r in chain)
        assert m.stop_cpu == 0


# ------------------------------------------------------------------ registers

def test_registers_after_a_multiboot_load(machine, hello):
    machine.load_elf(hello)
    assert machine.eax == 0x2BADB002  # the Multiboot magic
    assert machine.eip == elf_entry(hello)
    assert machine.rip == machine.eip
    assert machine.cpu(0).eip == machine.eip
    assert machine.registers()["eax"] == 0x2BADB002
    assert machine.cr0 & 1  # protected mode


def test_registers_round_trip(machine):
    machine.ebx = 0xDEADBEEF
    assert machine.ebx == 0xDEADBEEF
    assert machine.rbx == 0xDEADBEEF
    machine.cpu(0).set("ecx", 0x12345678)
    assert machine.cpu(0).get(x86irq.Register.ECX) == 0x12345678
    machine.r9 = 0x1122334455667788
    assert machine.r9 == 0x1122334455667788
    assert machine.cpu(0).get64("r9") == 0x1122334455667788
    with pytest.raises(ValueError):
        machine.eax = 1 << 32
    with pytest.raises(ValueError):
        machine.cpu(0).get("xmm0")
    # a value the architecture would fault on: PG without PE
    with pytest.raises(Error) as e:
        machine.cr0 = 0x80000000
    assert e.value.status == Status.ERR_INVALID_ARGUMENT
    assert e.value.message


def test_other_cpus_have_their_own_registers():
    with x86irq.Machine(ram_size=8 << 20, cpus=2) as m:
        m.cpu(1).esi = 0x1111
        m.esi = 0x2222
        assert m.cpu(1).esi == 0x1111
        assert m.cpu(0).esi == 0x2222


# ------------------------------------------------------------------ memory

def test_memory_reads_and_writes(machine):
    machine.memory[0x1000:0x1004] = b"\x01\x02\x03\x04"
    assert machine.memory[0x1000:0x1004] == b"\x01\x02\x03\x04"
    assert machine.memory[0x1002] == 3
    machine.memory[0x1002] = 0xAA
    assert machine.memory.read(0x1000, 4) == b"\x01\x02\xaa\x04"
    machine.memory[0x2000:] = b"open-ended"
    assert machine.memory[0x2000:0x200A] == b"open-ended"
    machine.memory[-2:] = b"\xfe\xff"
    assert machine.memory[len(machine.memory) - 2:] == b"\xfe\xff"
    assert machine.memory[-1] == 0xFF
    assert machine.memory[0x10:0x08] == b""
    with pytest.raises(ValueError):
        machine.memory[0x1000:0x1004] = b"too long for it"


def test_memory_out_of_range_raises_the_librarys_message(machine):
    end = len(machine.memory)
    machine.memory[end - 4:] = b"keep"
    with pytest.raises(Error) as e:
        machine.memory[end - 4:end + 4]
    assert e.value.status == Status.ERR_RANGE
    assert "outside RAM" in e.value.message
    with pytest.raises(Error) as e:
        machine.memory[end - 4:end + 4] = b"overflow"
    assert e.value.status == Status.ERR_RANGE
    # a refused write writes nothing
    assert machine.memory[end - 4:] == b"keep"
    with pytest.raises(Error):
        machine.memory[end]


def test_linear_memory_without_paging_is_physical(machine):
    machine.memory[0x3000:0x3004] = b"abcd"
    assert machine.cpu(0).memory[0x3000:0x3004] == b"abcd"
    assert machine.cpu(0).translate(0x3000) == 0x3000


# ------------------------------------------------------------------ code of our own, devices

def tiny_program(port):
    """mov dx, port; mov al, 0x42; out dx, al; in al, dx; mov [0x2000], al;
    mov eax, 7; out 0xF4, eax (the debug exit)"""
    return (b"\x66\xba" + struct.pack("<H", port) + b"\xb0\x42\xee\xec"
            b"\xa2\x00\x20\x00\x00\xb8\x07\x00\x00\x00\xe7\xf4")


def test_port_device_and_instruction_hook(machine):
    writes, seen = [], []
    machine.add_port_device(0x300, 4, read=lambda offset, size: 0x5A,
                            write=lambda offset, size, value: writes.append((offset, size, value)))
    machine.set_instruction_hook(lambda info: seen.append(info))
    machine.memory[0x1000:] = tiny_program(0x300)
    machine.eip = 0x1000
    assert machine.run(100000) == StopReason.DEBUG_EXIT
    assert machine.exit_value == 7
    assert writes == [(0, 1, 0x42)]
    assert machine.memory[0x2000] == 0x5A
    assert seen[0].eip == 0x1000 and seen[0].bytes == b"\x66\xba\x00\x03"
    assert machine.disassemble(seen[0].bytes, 0x1000) == "mov dx, 0x300"
    assert len(seen) == 7


def test_scheduled_events_run_at_their_cycle_and_cancel(machine):
    machine.memory[0x1000:] = b"\xeb\xfe"  # jmp $
    machine.eip = 0x1000
    ran = []
    machine.schedule(5000, lambda m: ran.append(m.cycles))
    cancelled = machine.schedule(6000, lambda m: ran.append("cancelled"))
    machine.cancel(cancelled)
    assert machine.run(10000) == StopReason.BUDGET
    assert len(ran) == 1 and 5000 <= ran[0] < 5100


def test_snapshot_restores_a_run(hello):
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(hello)
        m.run(20000)
        saved, before = m.snapshot(), m.serial_output
        m.run()
        first = m.serial_output[len(before):]
        m.restore(saved)
        m.clear_serial()
        assert m.run() == StopReason.DEBUG_EXIT
        assert m.serial_output == first
        with pytest.raises(Error) as e:
            m.restore(b"no snapshot")
        assert e.value.status == Status.ERR_BAD_SNAPSHOT


def test_the_nic_counts_what_it_drops(machine):
    # The guest has not opened the receiver: the frame is dropped and counted
    assert machine.nic_receive(b"\xff" * 6 + b"\x52\x54\x00\x00\x00\x01\x88\xb5" + b"x" * 50) \
        is False
    assert machine.nic_statistics().receiver_disabled == 1


def test_cost_model(machine):
    assert "delivery" in x86irq.cost_classes()
    machine.set_cost("delivery", 500)
    assert machine.get_cost("delivery") == 500
    with pytest.raises(Error) as e:
        machine.set_cost("no-such-class", 1)
    assert e.value.status == Status.ERR_INVALID_ARGUMENT
