"""The ctypes mirrors against the compiler's layout of the header (layout.c), and the enums
against the library's own names for their values."""
import ctypes
import os
import subprocess

import pytest

import x86irq
from x86irq import _lib
from x86irq._lib import lib, text

MIRRORS = {
    "x86irq_config": _lib.Config,
    "x86irq_trace_event": _lib.TraceEventC,
    "x86irq_instruction_info": _lib.InstructionInfoC,
    "x86irq_event_record": _lib.EventRecordC,
    "x86irq_nic_statistics": _lib.NicStatisticsC,
    "x86irq_hook_filter": _lib.HookFilterC,
    "x86irq_hook_event": _lib.HookEventC,
}


@pytest.fixture(scope="module")
def c_layout():
    helper = os.environ.get("X86IRQ_LAYOUT")
    if not helper:
        pytest.skip("X86IRQ_LAYOUT (the built tests/python/layout.c) is not set")
    sizes, members = {}, {}
    for line in subprocess.run([helper], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        words = line.split()
        if "." in words[0]:
            struct, member = words[0].split(".")
            members.setdefault(struct, []).append((member, int(words[1]), int(words[2])))
        else:
            sizes[words[0]] = int(words[1])
    return sizes, members


@pytest.mark.parametrize("name", sorted(MIRRORS))
def test_struct_layout_matches_the_compilers(c_layout, name):
    sizes, members = c_layout
    mirror = MIRRORS[name]
    assert ctypes.sizeof(mirror) == sizes[name]
    ours = [(f[0], getattr(mirror, f[0]).offset, getattr(mirror, f[0]).size)
            for f in mirror._fields_]
    assert ours == members[name]


def test_enums_are_int_sized(c_layout):
    sizes, _ = c_layout
    for enum in ("x86irq_status", "x86irq_stop_reason", "x86irq_register"):
        assert sizes[enum] == ctypes.sizeof(ctypes.c_int)


def test_nic_statistics_size_is_accepted():
    # The library checks the caller's size against its first version's: ours passes
    with x86irq.Machine(ram_size=16 << 20) as m:
        stats = m.nic_statistics()
        assert stats == x86irq.NicStatistics(*([0] * 11))
        short = _lib.NicStatisticsC()
        short.size = 8  # below the first version's size: refused
        assert lib.x86irq_nic_get_statistics(m._h, ctypes.byref(short)) == \
            x86irq.Status.ERR_INVALID_ARGUMENT


def _spelling(member):
    return member.name.lower().replace("_", "-")


@pytest.mark.parametrize("enum, name_of, spell", [
    (x86irq.StopReason, lib.x86irq_stop_reason_string,
     lambda m: "cycle-budget" if m.name == "BUDGET" else _spelling(m)),
    (x86irq.CpuState, lib.x86irq_cpu_state_string,
     lambda m: "wait-for-sipi" if m.name == "WAITING_FOR_SIPI" else _spelling(m)),
    (x86irq.Register, lib.x86irq_register_name, lambda m: m.name.lower()),
    (x86irq.Register64, lib.x86irq_register64_name, lambda m: m.name.lower()),
    (x86irq.TraceKind, lib.x86irq_trace_kind_name, _spelling),
    (x86irq.NestingRule, lib.x86irq_nesting_rule_name, _spelling),
    (x86irq.Phase, lib.x86irq_phase_name, _spelling),
])
def test_enum_values_match_the_librarys_names(enum, name_of, spell):
    for member in enum:
        assert text(name_of(member)) == spell(member), member
    # and the C enum has no member past ours
    assert text(name_of(len(enum))) in ("unknown", "?")


def test_status_codes_match_the_librarys_names():
    # x86irq_status_string's words are prose, not the enum's names: the table by hand
    words = {"OK": "ok", "ERR_INVALID_ARGUMENT": "invalid argument",
             "ERR_NO_MEMORY": "out of memory", "ERR_IO": "I/O error",
             "ERR_BAD_IMAGE": "bad guest image", "ERR_RANGE": "address range error",
             "ERR_CONFLICT": "conflicting device range", "ERR_STATE": "not allowed in this state",
             "ERR_BAD_SNAPSHOT": "bad snapshot", "ERR_BAD_RECORDING": "bad recording"}
    assert {s.name: text(lib.x86irq_status_string(s)) for s in x86irq.Status} == words
    assert text(lib.x86irq_status_string(len(x86irq.Status))) == "unknown status"


def test_trace_all_is_every_kind():
    assert x86irq.TRACE_ALL == (1 << 16) - 1
    assert x86irq.TraceKind.NMI.bit == 1 << 15


def test_version():
    assert x86irq.version() == x86irq.__version__
    major, minor, patch = (int(p) for p in x86irq.version().split("."))
    assert x86irq.version_number() == major << 16 | minor << 8 | patch
    assert major == int(_lib.SONAME.rsplit(".", 1)[1])
