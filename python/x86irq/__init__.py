"""x86irq: libx86irq, the x86 interrupt-architecture emulator, from Python.

A thin layer over the C API through ctypes (docs/python.md): no build step of its own, no
package beyond Python's standard library, and the C API is plain structs and status codes.

    import x86irq
    with x86irq.Machine(ram_size=64 << 20) as m:
        m.load_elf("build/examples/guests/hello.elf")
        assert m.run() == x86irq.StopReason.DEBUG_EXIT
        print(m.serial_output.decode())

The library is found through $X86IRQ_LIBRARY (a full path: a build tree's), then the one
`meson install` installed beside this package, then the soname on the loader's path.
"""

from .enums import (Status, StopReason, CpuState, EventOrigin, Register, Register64, WatchKind,
                    TraceKind, NestingRule, Phase, Isa, TRACE_ALL, MAX_CPUS, PHASE_PORT,
                    THREAD_PORT, HookKind, Access)
from .machine import (Error, Machine, Cpu, Memory, TraceEvent, InstructionInfo, HookEvent,
                      EventRecord,
                      WatchpointHit, NicStatistics, cost_classes, version)
from ._lib import lib as _clib

__version__ = version()


def version_number():
    """The loaded library's version as one number (major << 16 | minor << 8 | patch)."""
    return _clib.x86irq_version_number()


__all__ = ["Status", "StopReason", "CpuState", "EventOrigin", "Register", "Register64",
           "WatchKind", "TraceKind", "NestingRule", "Phase", "Isa", "TRACE_ALL", "MAX_CPUS",
           "PHASE_PORT", "THREAD_PORT", "HookKind", "Access", "HookEvent", "Error", "Machine",
           "Cpu", "Memory", "TraceEvent",
           "InstructionInfo", "EventRecord", "WatchpointHit", "NicStatistics", "cost_classes",
           "version", "version_number"]
