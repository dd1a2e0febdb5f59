"""At 375 px wide (a small phone) no page scrolls sideways.

Every page of every role (tests/browser/every_page.py) opens in a 375 px viewport and the
document may be no wider than the window. A wide table may scroll inside its own box (a
wrapper with overflow-x: auto): that scroll is the table's, not the page's.
"""

from __future__ import annotations

import pytest

from tests.browser.every_page import ROLES, walk

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 375, "height": 740}}

# The elements reaching past the window's right edge, outside any box that scrolls or
# clips them: where to look when a page is too wide.
TOO_WIDE = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  // Only a box at or above an element's containing block clips it: an absolutely
  // positioned element escapes the boxes between itself and its offsetParent.
  const contained = (el) => {
    const absolute = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    let clipsFrom = absolute ? el.offsetParent : el.parentElement;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (p === clipsFrom) clipsFrom = null;
      if (clipsFrom === null
          && ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) {
        return true;
      }
    }
    return false;
  };
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().right > width + 0.5 && !contained(el)
        && !(el.parentElement && el.parentElement.getBoundingClientRect().right > width + 0.5
             && !contained(el.parentElement))) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (el.classList.length ? '.' + [...el.classList].join('.') : '');
      culprits.push(name);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, culprits};
}"""


def too_wide(page) -> list[str]:
    found = page.evaluate(TOO_WIDE)
    if found is None:
        return []
    return [f"{found['scrollWidth']} px wide in a {found['width']} px window; widest "
            f"outside a scrolling box: {', '.join(found['culprits'][:6]) or '?'}"]


# One test per role: xdist shares the roles' pages out between its workers.
@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_at_375_px(browser, live_server, role):
    too_wide_pages, opened = walk(browser, live_server, too_wide, (role,), **NARROW)
    assert opened and {line.split()[0] for line in opened} == {role}
    assert too_wide_pages == [], "pages wider than a 375 px screen:\n" + "\n".join(
        too_wide_pages)
