"""Keyboard-only use of a page: Tab to an element by its name, type, pick, press.

Playwright's ``page.keyboard`` alone: no click, no fill. Every element the Tab key lands on
must show that it has the focus (the outline of vouchers/static/app.css on a box one can
see), or the step fails.
"""

from __future__ import annotations

import re

# Far more than any page of the keyboard tests has focusable elements before its target
# (the manager's application page has the most).
MAX_TABS = 250

# What the focused element is, as the tests name it (its label, its text or its value),
# and whether the keyboard focus shows: the focus outline (vouchers/static/app.css) on a
# box one can see.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const label = (el.labels && el.labels.length) ? el.labels[0].innerText
    : (el.getAttribute('aria-label') || el.innerText || el.value || '');
  return {
    name: label.replace(/\\s+/g, ' ').trim(),
    tag: el.tagName.toLowerCase() + (el.type ? ':' + el.type : ''),
    visible: style.outlineStyle !== 'none'
      && parseFloat(style.outlineWidth) > 0 && box.width > 1 && box.height > 1,
  };
}"""


def focused(page) -> dict | None:
    return page.evaluate(FOCUSED)


def tab_to(page, name: str | re.Pattern, *, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focus is on ``name``; every stop on the way
    must show its focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        now = focused(page)
        if now is None:
            continue
        assert now["visible"], f"the keyboard focus does not show on {now} ({page.url})"
        if (name.search(now["name"]) if isinstance(name, re.Pattern)
                else now["name"] == name):
            return
    raise AssertionError(f"{MAX_TABS} presses of {key} never reached {name!r} on {page.url}")


def type_into(page, name, text: str) -> None:
    tab_to(page, name)
    page.keyboard.type(text)


def choose(page, name, option: str) -> None:
    """Pick ``option`` of a closed select with the arrow keys, as a keyboard user does."""
    tab_to(page, name)
    texts, current = page.evaluate(
        "() => [[...document.activeElement.options].map(o => o.text),"
        " document.activeElement.selectedIndex]")
    assert option in texts, f"{name}: no option {option!r} in {texts}"
    steps = texts.index(option) - current
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert page.evaluate("() => document.activeElement.selectedOptions[0].text") == option


def open_file_picker(page, attempts: int = 3):
    """Space on the focused file field, as a keyboard user opens the picker; pressed again
    when no picker came. On a loaded machine Chromium now and then drops the key's
    activation of the picker (CI saw it once in a full run, never alone): a user would
    press Space again. The field must keep the focus, so the retry is the same gesture."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts - 1):
        try:
            return _press_space_for_the_picker(page)
        except PlaywrightTimeout:
            continue
    return _press_space_for_the_picker(page)


def _press_space_for_the_picker(page):
    assert page.evaluate("() => document.activeElement.type") == "file"
    with page.expect_file_chooser(timeout=10_000) as chooser:
        page.keyboard.press("Space")
    return chooser.value


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")




def choose_in_group(page, legend: str | re.Pattern, option: str) -> None:
    """Tab into the radio group under ``legend``, then pick ``option`` with the arrow keys
    (Tab enters a group once; the arrows move, and check, within it)."""
    group = """() => { const f = document.activeElement.closest('fieldset');
      return f && f.querySelector('legend') ? f.querySelector('legend').innerText : null; }"""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        now = focused(page)
        if now is None:
            continue
        assert now["visible"], f"the keyboard focus does not show on {now} ({page.url})"
        title = page.evaluate(group) if now["tag"] == "input:radio" else None
        if title and (legend.search(title) if isinstance(legend, re.Pattern)
                      else title.strip() == legend):
            break
    else:
        raise AssertionError(f"{MAX_TABS} presses of Tab never reached the group {legend!r}")
    for _ in range(12):
        if focused(page)["name"] == option:
            page.keyboard.press("Space")  # the first radio is focused, not yet checked
            assert page.evaluate("() => document.activeElement.checked") is True
            return
        page.keyboard.press("ArrowRight")
    raise AssertionError(f"no option {option!r} in the group {legend!r}")
