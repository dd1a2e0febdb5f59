"""The managers' Mail page: newest first by the time a message was queued, every kind by
its name, filters by status, kind and recipient that combine and survive the page links,
wrong filter values left out with a message, and long header values that wrap."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import login, logout
from vouchers import mail_kinds
from vouchers.extensions import db
from vouchers.models import OutboxMessage
from vouchers.models.base import utcnow
from vouchers.services import mailbox, outbox
from vouchers.services.transaction import atomic

ROOT = Path(__file__).resolve().parent.parent
URL = "/manage/mailbox"


def queue(to: str, **changes) -> OutboxMessage:
    """One committed message (a kind that needs no context), then ``changes`` to its row:
    the page only reads the row, so any kind, status or time may be set."""
    with atomic():
        message = outbox.queue("password_changed", to=to, context={})
        for name, value in changes.items():
            setattr(message, name, value)
    db.session.commit()
    return message


def get(client, url: str = URL, **args) -> str:
    response = client.get(url, query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def listed(page: str) -> list[str]:
    """The recipients of the table's rows, top to bottom."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>", body)


def page_links(page: str) -> dict[str, dict[str, list[str]]]:
    """The pager's links by their text, each as its parsed query string."""
    nav = re.search(r'<nav aria-label="Pages of messages">(.*?)</nav>', page, re.S)
    assert nav, "no page links"
    return {text: parse_qs(urlsplit(unescape(href)).query)
            for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(\w+)</a>', nav.group(1))}


@pytest.fixture
def manager(client, make):
    user = make.manager()
    login(client, user)
    return user


# --- order and labels ------------------------------------------------------------------


def test_newest_first_by_the_time_queued_then_by_id(client, manager):
    now = utcnow()
    # Queued in this order (ids ascending), but backdated as the demo does.
    day_old = queue("day-old@example.org", created_at=now - timedelta(days=1))
    queue("three-days@example.org", created_at=now - timedelta(days=3))
    queue("two-days@example.org", created_at=now - timedelta(days=2))
    queue("same-instant@example.org", created_at=day_old.created_at)

    assert listed(get(client)) == ["same-instant@example.org", "day-old@example.org",
                                   "two-days@example.org", "three-days@example.org"]
    assert "newest first (by the time it was queued)" in get(client)


def test_every_kind_has_a_label_of_its_own():
    labels = [mailbox.KIND_LABELS.get(key) for key in mail_kinds.KINDS]
    assert all(labels), [k for k in mail_kinds.KINDS if not mailbox.KIND_LABELS.get(k)]
    assert len(set(labels)) == len(labels)  # the kind filter's choices are distinct
    assert set(mailbox.KIND_LABELS) == set(mail_kinds.KINDS)  # no label of a removed kind
    assert all("_" not in label for label in labels)
    # A kind no longer in the registry (an old row) still reads as words.
    assert mailbox.kind_label("old_kind_gone") == "Old kind gone"


def test_the_page_names_kinds_and_offers_each_in_the_kind_filter(client, manager):
    message = queue("ada@lovelace.example", kind="message_to_managers")

    page = get(client)
    detail = get(client, f"{URL}/{message.id}")

    assert "Message to the managers" in page and "message_to_managers</td>" not in page
    assert "<dt>Kind</dt><dd>Message to the managers</dd>" in detail
    options = dict(re.findall(r'<option value="(\w+)">([^<]+)</option>',
                              page[page.index('name="kind"'):]))
    assert {k: unescape(v) for k, v in options.items()
            if k in mail_kinds.KINDS} == mailbox.KIND_LABELS


# --- filters ---------------------------------------------------------------------------


def test_the_recipient_filter_matches_a_fragment_in_any_case_and_wildcards_literally(
        client, manager):
    queue("Ada@Lovelace.example")
    queue("a_b@example.org")
    queue("axb@example.org")
    queue("grace@hopper.example")

    assert listed(get(client, to="LOVELACE")) == ["Ada@Lovelace.example"]
    assert listed(get(client, to="  lovelace.EXAMPLE ")) == ["Ada@Lovelace.example"]
    assert listed(get(client, to="a_b")) == ["a_b@example.org"]
    assert "No message matches these filters." in get(client, to="%")
    assert len(listed(get(client, to=".example"))) == 2


def test_the_kind_and_status_filters_and_all_three_combined(client, manager):
    queue("ada@lovelace.example", kind="message_to_managers", status="failed")
    queue("ada@lovelace.example", kind="message_to_managers")
    queue("ada@lovelace.example", kind="password_reset", status="failed")
    queue("grace@hopper.example", kind="message_to_managers", status="failed")

    by_kind = get(client, kind="message_to_managers")
    combined = get(client, kind="message_to_managers", status="failed", to="lovelace")

    assert len(listed(by_kind)) == 3 and "Password reset" not in by_kind.split("<tbody>")[1]
    assert len(listed(get(client, status="failed"))) == 3
    assert listed(combined) == ["ada@lovelace.example"]
    assert "Messages 1–1 of 1" in combined
    # The form shows the filters applied.
    assert '<option selected value="message_to_managers">' in combined
    assert '<option selected value="failed">' in combined and 'value="lovelace"' in combined


def test_the_page_links_keep_the_filters(client, manager, monkeypatch):
    monkeypatch.setattr(mailbox, "MAILBOX_PER_PAGE", 2)
    now = utcnow()
    for n in range(5):
        queue(f"ada{n}@lovelace.example", kind="message_to_managers", status="failed",
              created_at=now - timedelta(hours=n))
    queue("ada9@lovelace.example", kind="password_reset", status="failed")
    queue("grace@hopper.example", kind="message_to_managers", status="failed")
    filters = {"kind": "message_to_managers", "status": "failed", "to": "LOVELACE"}

    first = get(client, **filters)
    links = page_links(first)
    second = get(client, **{k: v[0] for k, v in links["Next"].items()})
    last = get(client, **{k: v[0] for k, v in page_links(second)["Last"].items()})

    assert listed(first) == ["ada0@lovelace.example", "ada1@lovelace.example"]
    assert links["Next"] == {**{k: [v] for k, v in filters.items()}, "page": ["2"]}
    assert listed(second) == ["ada2@lovelace.example", "ada3@lovelace.example"]
    assert listed(last) == ["ada4@lovelace.example"] and "Page 3 of 3" in last


def test_wrong_filter_values_are_left_out_with_a_message_and_the_rest_applies(
        client, manager, monkeypatch):
    monkeypatch.setattr(mailbox, "MAILBOX_PER_PAGE", 1)
    queue("ada@lovelace.example", status="failed")
    queue("ada2@lovelace.example", status="failed")
    queue("grace@hopper.example", status="failed")

    page = get(client, kind="no_such_kind", status="lost", to="lovelace")
    too_long = get(client, to="a" * 255, kind="password_changed")

    assert "There is no such kind of message: messages of every kind are shown." in page
    assert "There is no such status: messages of every status are shown." in page
    assert "Messages 1–1 of 2" in page  # the recipient filter still applies
    assert page_links(page)["Next"] == {"to": ["lovelace"], "page": ["2"]}
    assert "at most 254 characters" in too_long and "Messages 1–1 of 3" in too_long
    # A page past the last one says where the messages are, and links to them.
    past = get(client, to="lovelace", page=99)
    assert "past the last one: 2 messages match these filters, on pages 1 to 2." in past
    assert page_links(past)["First"] == {"to": ["lovelace"], "page": ["1"]}


def test_only_managers_see_the_page_whatever_its_filters(client, make):
    message = queue("ada@lovelace.example", kind="message_to_managers")
    for user in (make.applicant(), make.evaluator()):
        login(client, user)
        for url in (f"{URL}?kind=message_to_managers&to=ada", f"{URL}?kind=nonsense",
                    f"{URL}/{message.id}"):
            assert client.get(url).status_code == 404
    logout(client)
    assert client.get(f"{URL}?to=ada").status_code == 302


# --- the message's page ----------------------------------------------------------------


def test_a_long_message_id_wraps_instead_of_widening_the_page(client, manager):
    long_id = "<" + "0123456789abcdef" * 10 + "@vouchers.example>"
    message = queue("ada@lovelace.example", message_id=long_id)

    page = get(client, f"{URL}/{message.id}")

    details = page[page.index('<dl class="details wrap-anywhere">'):]
    assert unescape(details[:details.index("</dl>")]).count(long_id) == 1
    css = (ROOT / "vouchers" / "static" / "app.css").read_text()
    assert re.search(r"\.wrap-anywhere\s*{\s*overflow-wrap:\s*anywhere;", css)
