"""The run's last line names the tests skipped for want of a tool, and why.

`make test` installs Chromium and LibreOffice where it can (scripts/ensure-test-tools.sh);
where it cannot, or PostgreSQL does not answer, those tests skip, and a green run must not
hide that among pytest's short summary. Hooks re-exported by tests/conftest.py.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

# How the suite's skips for a missing tool word their reason (tests/browser/conftest.py,
# the LibreOffice tests, postgres_reachable in tests/conftest.py).
MISSING_TOOL = re.compile(r"not installed|not reachable", re.IGNORECASE)
_LINE_KEY = pytest.StashKey[str]()


def _reason(report) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def missing_tools_line(skipped_reports) -> str | None:
    reasons = Counter(_reason(r) for r in skipped_reports if MISSING_TOOL.search(_reason(r)))
    if not reasons:
        return None
    parts = "; ".join(f"{count} because {reason}" for reason, count in reasons.most_common())
    return (f"!!! {sum(reasons.values())} TESTS SKIPPED FOR A MISSING TOOL: {parts}. "
            "Install or start them so they run (make test installs Chromium and LibreOffice "
            "when run as root with apt-get, and axe-core with npm).")


def pytest_terminal_summary(terminalreporter, config) -> None:
    line = missing_tools_line(terminalreporter.stats.get("skipped", []))
    if line:
        config.stash[_LINE_KEY] = line


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    # After pytest's own "N passed, M skipped" line: the last thing the run prints.
    line = config.stash.get(_LINE_KEY, None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None:
        reporter.write_line(line, red=True, bold=True)
