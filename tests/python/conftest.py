"""Shared fixtures: the bundled guests Meson names in X86IRQ_GUEST_<NAME> (tests/python/meson.build)."""
import os

import pytest

import x86irq


def guest_path(name):
    path = os.environ.get("X86IRQ_GUEST_" + name.replace("-", "_").upper())
    if not path:
        pytest.skip(f"the bundled guest {name} is not built (X86IRQ_GUEST_* unset)")
    return path


@pytest.fixture
def hello():
    return guest_path("hello")


@pytest.fixture
def timer():
    return guest_path("timer")


@pytest.fixture
def machine():
    with x86irq.Machine(ram_size=16 << 20) as m:
        yield m
