"""Trace hooks and callbacks: named fields, and exceptions that must not cross into C."""
import pytest

import x86irq
from x86irq import Error, Status, StopReason, TraceKind


def test_trace_hook_receives_events_with_named_fields(timer):
    events = []
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        m.set_trace_hook(events.append, kinds=[TraceKind.DELIVER, TraceKind.HANDLER,
                                               TraceKind.IRET, TraceKind.IRR])
        assert m.run() == StopReason.DEBUG_EXIT
        assert m.exit_value == 0
        assert m.nesting_max_depth == 1
    assert {e.kind for e in events} == {TraceKind.DELIVER, TraceKind.HANDLER, TraceKind.IRET,
                                        TraceKind.IRR}
    delivered = [e for e in events if e.kind == TraceKind.DELIVER]
    # the timer guest takes 11 PIT interrupts (vector 0x30), then 11 local APIC timer ones (0x31)
    assert [e.vector for e in delivered] == [0x30] * 11 + [0x31] * 11
    assert all(e.depth == 1 and e.origin == x86irq.EventOrigin.HARDWARE and e.core == 0
               and e.code_bits == 32 and e.cpl == 0 and e.gate == 0xE and e.ss == 0x10
               for e in delivered)
    # the handler's first instruction follows each delivery, where it said
    handlers = [e for e in events if e.kind == TraceKind.HANDLER]
    assert [(e.cycle, e.eip) for e in handlers] == [(e.cycle, e.eip) for e in delivered]
    assert all(e.symbol.startswith("trap_stubs+") for e in handlers)
    cycles = [e.cycle for e in events]
    assert cycles == sorted(cycles)
    # each handler returns: an IRET of its vector at depth 0
    irets = [e for e in events if e.kind == TraceKind.IRET]
    assert [e.vector for e in irets] == [e.vector for e in delivered]
    assert all(e.depth == 0 for e in irets)
    # PIT ticks about 999847 cycles apart, as the guest measures
    pit = [e.cycle for e in delivered if e.vector == 0x30]
    assert all(abs(b - a - 999847) < 1000 for a, b in zip(pit[1:], pit[2:]))


def test_an_exception_in_a_callback_surfaces_from_run(timer):
    class Planted(Exception):
        pass

    seen = []

    def hook(event):
        seen.append(event)
        if len(seen) == 3:
            raise Planted("from the trace hook")

    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        m.set_trace_hook(hook, kinds=[TraceKind.HANDLER])
        with pytest.raises(Planted, match="from the trace hook"):
            m.run()
        # the run stopped at the next boundary instead of going on to the guest's exit
        assert m.stop_reason == StopReason.REQUESTED
        assert len(seen) == 3
        # the machine is still good: it runs on to the end
        assert m.run() == StopReason.DEBUG_EXIT
        assert len(seen) == 22


def test_an_exception_in_the_serial_callback_surfaces_from_run(hello):
    def serial(byte):
        if byte == b"!":
            raise ValueError("no shouting")

    with x86irq.Machine(ram_size=16 << 20, serial=serial) as m:
        m.load_elf(hello)
        with pytest.raises(ValueError, match="no shouting"):
            m.run()
        assert m.serial_output == b"Hello from a guest on libx86irq!"


def test_calls_refused_in_a_callback_surface_with_the_librarys_message(timer):
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        m.set_trace_hook(lambda e: m.run(10), kinds=[TraceKind.HANDLER])
        with pytest.raises(Error) as e:
            m.run()
        assert e.value.status == Status.ERR_STATE
        assert "callback" in e.value.message
        m.set_trace_hook(lambda e: m.close(), kinds=[TraceKind.HANDLER])
        with pytest.raises(Error) as e:
            m.run()
        assert e.value.status == Status.ERR_STATE
        assert not m.closed


def test_a_callback_may_read_registers_and_request_a_stop(timer):
    seen = []

    def hook(event):
        seen.append((event.eip, m.eip))
        m.request_stop()

    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        m.set_trace_hook(hook, kinds=[TraceKind.HANDLER])
        assert m.run() == StopReason.REQUESTED
        # at the handler's first instruction, EIP is the handler's
        assert seen == [(seen[0][0], seen[0][0])]
        m.set_trace_hook(None)
        assert m.run() == StopReason.DEBUG_EXIT
        assert len(seen) == 1


def test_trace_events_between_runs(machine):
    events = []
    machine.set_trace_hook(events.append, kinds=[TraceKind.LINE])
    machine.set_irq_line(4, 1)
    machine.set_irq_line(4, 0)
    assert [(e.kind, e.line, e.level) for e in events] == [(TraceKind.LINE, 4, 1),
                                                           (TraceKind.LINE, 4, 0)]


def test_callbacks_outlive_their_python_references(timer):
    import gc
    counts = {"first": 0, "second": 0}

    def second(event):
        counts["second"] += 1

    def first(event):
        counts["first"] += 1
        # replaced from inside itself: the running thunk must stay alive until run returns
        m.set_trace_hook(second, kinds=[TraceKind.DELIVER])

    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        m.set_trace_hook(first, kinds=[TraceKind.DELIVER])
        del first
        gc.collect()
        assert m.run() == StopReason.DEBUG_EXIT
    assert counts == {"first": 1, "second": 21}


def test_events_scheduled_from_a_callback(machine):
    machine.memory[0x1000:] = b"\xeb\xfe"  # jmp $
    machine.eip = 0x1000
    ticks = []

    def tick(m):
        ticks.append(m.cycles)
        if len(ticks) < 5:
            m.schedule(m.cycles + 1000, tick)

    machine.schedule(1000, tick)
    assert machine.run(20000) == StopReason.BUDGET
    assert len(ticks) == 5
    assert all(999 <= b - a < 1100 for a, b in zip(ticks, ticks[1:]))


def test_one_kind_is_not_a_mask(machine):
    events = []
    # TraceKind.LINE is 0 as an int: as a mask it would subscribe to nothing
    machine.set_trace_hook(events.append, kinds=TraceKind.LINE)
    machine.pulse_irq_line(3)
    assert [(e.kind, e.level) for e in events] == [(TraceKind.LINE, 1), (TraceKind.LINE, 0)]
    events.clear()
    machine.set_trace_hook(events.append, kinds=TraceKind.LINE.bit | TraceKind.IRR.bit)
    machine.pulse_irq_line(3)
    assert len(events) == 2


def test_add_hook_many_listeners_and_filters(timer):
    """add_hook's hooks coexist with each other and the trace slot, each with its filter"""
    slot, pit, apic, ports, removed = [], [], [], [], []
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        m.set_trace_hook(slot.append, kinds=TraceKind.DELIVER)
        m.add_hook(x86irq.HookKind.INTERRUPT, pit.append, first=0x30, last=0x30,
                   trace=TraceKind.DELIVER)
        m.add_hook(x86irq.HookKind.INTERRUPT, apic.append, first=0x31, last=0x31,
                   trace=[TraceKind.DELIVER])
        m.add_hook(x86irq.HookKind.PORT, ports.append, first=0xF4, last=0xF4,
                   access=x86irq.Access.WRITE)
        gone = m.add_hook(x86irq.HookKind.TRACE, removed.append)
        m.remove_hook(gone)
        with pytest.raises(Error) as e:
            m.remove_hook(gone)
        assert e.value.status == Status.ERR_INVALID_ARGUMENT and "no hook" in str(e.value)
        assert m.run() == StopReason.DEBUG_EXIT
    assert [e.vector for e in slot] == [0x30] * 11 + [0x31] * 11
    assert len(pit) == 11 and len(apic) == 11 and removed == []
    assert all(e.kind == x86irq.HookKind.INTERRUPT and e.trace.kind == TraceKind.DELIVER
               and e.trace.vector == 0x30 for e in pit)
    assert [e.cycle for e in pit] == [e.cycle for e in slot[:11]]
    # the debug exit's write: port, value, a dword (out dx, eax)
    assert [(p.address, p.value, p.length, p.access) for p in ports] == [
        (0xF4, 0, 4, x86irq.Access.WRITE)]


def test_add_hook_instruction_range_and_self_removal(timer):
    calls = []
    with x86irq.Machine(ram_size=16 << 20) as m:
        m.load_elf(timer)
        entry = m.eip
        handle = None

        def once(event):
            calls.append(event)
            m.remove_hook(handle)
        handle = m.add_hook(x86irq.HookKind.INSTRUCTION, once, first=entry, last=entry)
        with pytest.raises(Error) as e:
            m.add_hook(x86irq.HookKind.MEMORY, calls.append, first=5, last=4)
        assert "first" in str(e.value)
        assert m.run() == StopReason.DEBUG_EXIT
    assert len(calls) == 1
    assert calls[0].instruction.linear == entry and calls[0].instruction.bytes
