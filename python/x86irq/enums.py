"""The C API's enums as IntEnums, with the values of include/x86irq/x86irq.h (and the C names
without their prefix). tests/python/test_layout.py checks each against the library's own
names for the values (x86irq_stop_reason_string, x86irq_trace_kind_name, ...)."""

import enum


class Status(enum.IntEnum):
    OK = 0
    ERR_INVALID_ARGUMENT = 1
    ERR_NO_MEMORY = 2
    ERR_IO = 3
    ERR_BAD_IMAGE = 4
    ERR_RANGE = 5
    ERR_CONFLICT = 6
    ERR_STATE = 7
    ERR_BAD_SNAPSHOT = 8
    ERR_BAD_RECORDING = 9


class StopReason(enum.IntEnum):
    NONE = 0
    BUDGET = 1
    DEBUG_EXIT = 2
    SHUTDOWN = 3
    HALTED = 4
    REQUESTED = 5
    BREAKPOINT = 6
    POWEROFF = 7
    RESET = 8
    STEP = 9
    WATCHPOINT = 10

    @property
    def final(self):
        """A stop after which the machine cannot run again (docs/api.md, "Running")."""
        return self in (StopReason.DEBUG_EXIT, StopReason.SHUTDOWN, StopReason.POWEROFF,
                        StopReason.RESET)


class CpuState(enum.IntEnum):
    RUNNING = 0
    HALTED = 1
    WAITING_FOR_SIPI = 2
    SHUTDOWN = 3


class EventOrigin(enum.IntEnum):
    EXCEPTION = 0
    HARDWARE = 1
    SOFTWARE = 2
    DOUBLE_FAULT = 3
    NMI = 4


class Register(enum.IntEnum):
    """x86irq_register: the 32-bit view (x86irq_get_register)"""
    EAX = 0
    ECX = 1
    EDX = 2
    EBX = 3
    ESP = 4
    EBP = 5
    ESI = 6
    EDI = 7
    EIP = 8
    EFLAGS = 9
    ES = 10
    CS = 11
    SS = 12
    DS = 13
    FS = 14
    GS = 15
    CR0 = 16
    CR2 = 17
    CR3 = 18
    CR4 = 19
    DR0 = 20
    DR1 = 21
    DR2 = 22
    DR3 = 23
    DR6 = 24
    DR7 = 25


class Register64(enum.IntEnum):
    """x86irq_register64: the 64-bit view (x86irq_get_cpu_register64)"""
    RAX = 0
    RCX = 1
    RDX = 2
    RBX = 3
    RSP = 4
    RBP = 5
    RSI = 6
    RDI = 7
    R8 = 8
    R9 = 9
    R10 = 10
    R11 = 11
    R12 = 12
    R13 = 13
    R14 = 14
    R15 = 15
    RIP = 16
    RFLAGS = 17
    CR0 = 18
    CR2 = 19
    CR3 = 20
    CR4 = 21
    CR8 = 22
    EFER = 23
    ES_BASE = 24
    CS_BASE = 25
    SS_BASE = 26
    DS_BASE = 27
    FS_BASE = 28
    GS_BASE = 29
    KERNEL_GS_BASE = 30
    GDTR_BASE = 31
    GDTR_LIMIT = 32
    IDTR_BASE = 33
    IDTR_LIMIT = 34
    LDTR_BASE = 35
    TR_BASE = 36


class WatchKind(enum.IntEnum):
    WRITE = 1
    READ = 2
    ACCESS = 3


class TraceKind(enum.IntEnum):
    LINE = 0
    IRR = 1
    ACCEPT = 2
    EXCEPTION = 3
    DELIVER = 4
    HANDLER = 5
    EOI = 6
    IRET = 7
    DOUBLE_FAULT = 8
    SHUTDOWN = 9
    DEVICE = 10
    NESTING = 11
    PHASE = 12
    ROUTE = 13
    SWITCH = 14
    NMI = 15

    @property
    def bit(self):
        """X86IRQ_TRACE_BIT(kind): its bit in a subscription mask"""
        return 1 << self


TRACE_ALL = (1 << len(TraceKind)) - 1


class HookKind(enum.IntEnum):
    """x86irq_hook_kind: what an x86irq_hook_add hook listens to"""
    TRACE = 0
    INSTRUCTION = 1
    MEMORY = 2
    PORT = 3
    INTERRUPT = 4


class Access(enum.IntFlag):
    """X86IRQ_ACCESS_*: the accesses a memory or port hook takes (PHYSICAL: the range is
    physical addresses)"""
    READ = 1
    WRITE = 2
    FETCH = 4
    PHYSICAL = 8


class NestingRule(enum.IntEnum):
    EXCEPTION_IN_IRQ = 0
    IRQ_IN_IRQ = 1
    IRET_UNMATCHED = 2
    HLT_HANG = 3
    USER_ACCESS_IN_IRQ = 4


class Phase(enum.IntEnum):
    PROCESS = 0
    CRITICAL = 1
    IMMEDIATE = 2
    SOFTIRQ = 3
    TASKLET = 4
    WORKQUEUE = 5


class Isa(enum.IntFlag):
    """config.isa bits (X86IRQ_ISA_*)"""
    SSE = 1 << 0
    SSE2 = 1 << 1
    SSE3 = 1 << 2
    SSSE3 = 1 << 3
    SSE41 = 1 << 4
    SSE42 = 1 << 5
    XSAVE = 1 << 6
    ALL = 0x7F


MAX_CPUS = 64
PHASE_PORT = 0xFE0
THREAD_PORT = 0xFE4
