"""Every page of every role passes axe-core with no serious or critical violation.

The pages come from the URL map (tests/browser/every_page.py), each opened as each role
the page's permission lets in: anonymous, applicant, evaluator, manager and a partner's
manager, in the page authorization matrix's world. axe-core (tests/browser/axe.py) runs
in Debian's Chromium on each page as it loads.
"""

from __future__ import annotations

import pytest

from tests.browser.axe import AXE_CONTEXT, require_axe, serious_violations
from tests.browser.every_page import ROLES, walk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe(browser):
    require_axe()


def test_axe_finds_a_serious_violation_when_there_is_one(browser, axe):
    # The check itself can fail: an image without a text alternative and a button without
    # a name are critical in axe-core.
    context = browser.new_context(**AXE_CONTEXT)
    try:
        page = context.new_page()
        page.set_content('<!doctype html><html lang="en"><head><title>t</title></head>'
                         '<body><main><h1>t</h1><img src="x.png"><button></button></main>'
                         '</body></html>')
        found = serious_violations(page)
    finally:
        context.close()
    assert [line.split()[0] for line in found] == ["button-name", "image-alt"]


# One test per role: xdist shares the roles' pages out between its workers.
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_passes_axe(browser, live_server, axe, role):
    violations, opened = walk(browser, live_server, serious_violations, (role,),
                              **AXE_CONTEXT)
    # The role saw pages of its own (a walk that opens nothing would pass).
    assert opened and {line.split()[0] for line in opened} == {role}
    assert violations == [], "serious or critical axe-core violations:\n" + "\n".join(
        violations)
