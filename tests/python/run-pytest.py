"""The suite python's runner: python3 -m pytest ARGS, or exit 77 (Meson's skip) with a message
when this interpreter has no pytest (Debian: python3-pytest, which scripts/setup.sh installs)."""
import sys

try:
    import pytest
except ImportError:
    print(f"{sys.executable} cannot import pytest: install python3-pytest "
          "(scripts/setup.sh does); skipping", file=sys.stderr)
    sys.exit(77)

sys.exit(pytest.main(sys.argv[1:]))
