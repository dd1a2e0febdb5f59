"""axe-core in a page of the browser tests: load it, run it, keep what is serious.

axe-core comes from the npm registry, pinned in package.json and package-lock.json at the
repository root (`npm ci`, which scripts/ensure-test-tools.sh runs when node_modules lacks
it). Where it is missing the accessibility tests skip, with a reason the last line of
`make test` repeats (tests/skip_summary.py); with REQUIRE_BROWSER=1 (CI) that is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a page; "moderate" and "minor" findings are not the bar.
FAILING_IMPACTS = ("serious", "critical")
# The app's Content-Security-Policy (script-src 'self') refuses inline scripts, and
# Playwright's add_script_tag(path=...) adds the file's text as an inline <script>: the
# contexts that run axe are opened with bypass_csp=True (Playwright's option), for the
# test's own script only. The pages keep their policy everywhere else in the suite.
AXE_CONTEXT = {"bypass_csp": True}


def require_axe() -> None:
    """Skip (or fail, where the browser tests are required) when axe-core is absent."""
    if AXE_JS.is_file():
        return
    reason = ("axe-core is not installed (npm ci at the repository root, or "
              "scripts/ensure-test-tools.sh)")
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"the accessibility tests are required here but {reason}")
    pytest.skip(reason)


def serious_violations(page) -> list[str]:
    """Run axe-core on the page as it is now; one line per serious or critical violation:
    its rule, its impact, what it is, and the CSS targets of the nodes it found."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"])
        for v in results["violations"] if v["impact"] in FAILING_IMPACTS
    ]
