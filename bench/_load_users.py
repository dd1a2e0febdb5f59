"""The simulated people of the deadline-rush load test, run by locust in its own process.

    python bench/_load_users.py <settings.json> <results.json>

A process of its own because locust patches the standard library for gevent on import:
the orchestrator (bench/load_deadline_rush.py) seeds, serves and checks with the plain
library, and this process only drives HTTP, as a load generator on another machine would.

Every user acts like a browser: it reads each form's CSRF token from the page it just
loaded, keeps its cookies and sends the fields the page's form sends. It pauses before
every request, the redirect's target included (``think`` seconds on average: uniform
between half and one and a half of it), so that the hello-world reference, the same
people pausing alike before each request, has exactly the same pacing. Each user has its own
client address, passed as the X-Forwarded-For header of the reverse proxy the server is
told it stands behind (TRUSTED_PROXIES=1): 200 people do not share one address.

- Applicant: starts where its seeded person stands (bench/_load_seed.py resume(): new,
  or returning with a confirmed account, a profile, a draft, a draft and its quote). A
  new one registers, reads the verification link from its mail and confirms the address;
  a returning one logs in. Then on from where it stands: describes the company, starts a
  draft, saves it again with a second cost line ("Add a cost line" redraws the form),
  uploads a quote (PDF), ticks the publication consent and submits; then a new person
  arrives, who registers.
- Manager: logs in (password, then the code of the second factor the seed enrolled),
  then repeatedly opens the table of the applications under review of
  its country, opens the first and awards it.
- Hello (the reference run): GET / of the hello-world app with the same pacing.

A request counts as an error when its answer is not the one a browser expects (the status
and, for a form, the redirect that says it was accepted); the journey then starts afresh.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import gevent
from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import RescheduleTask, StopUser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load_mailbox import Mailbox  # noqa: E402
from bench._load_pages import (  # noqa: E402
    APPLICATION_PATH,
    MANAGED,
    NEW_DRAFT,
    PASSWORD,
    QUOTE_PDF,
    VERIFY_PATH,
    cpu_seconds,
    csrf_of,
    multipart,
)

SETTINGS = json.loads(Path(sys.argv[1]).read_text()) if __name__ == "__main__" else {}
_addresses = itertools.count(1)
# Set when the measured window opens: until then the people get into place (warm_up()).
WINDOW = Event()


class Outcome:
    """What the orchestrator checks afterwards, and the first refusals, to read."""

    submitted: list[int] = []
    awarded: list[int] = []
    registered = 0
    user_errors = 0
    ready = 0  # people in place for the window
    warm_up_errors = 0
    mail_waits: list[float] = []
    error_samples: list[str] = []


def keep_sample(what: str, page: str | None) -> None:
    """The first refusals, with what the page said (its flashed or field errors)."""
    if len(Outcome.error_samples) < 20:
        text = re.sub(r"\s+", " ", page or "")
        said = re.findall(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>(.{0,160})', text)
        Outcome.error_samples.append(f"{what} {said[:2]}")


@events.user_error.add_listener
def _journey_failed(user_instance, exception, tb, **_kwargs) -> None:
    # A page without its form or a mail that never came: as much an error as a 500.
    Outcome.user_errors += 1
    keep_sample(f"{type(user_instance).__name__}: {type(exception).__name__}: {exception}",
                None)


def new_address() -> str:
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def think() -> None:
    pause = SETTINGS.get("think", 0.0)
    if pause > 0 and WINDOW.is_set():
        gevent.sleep(random.uniform(0.5 * pause, 1.5 * pause))


def before_deadline() -> None:
    """No request starts after the deadline: every request begun is answered and counted."""
    if time.time() >= SETTINGS["deadline"]:
        raise StopUser()


class Browser(FastHttpUser):
    abstract = True
    wait_time = constant(0)  # the pause is before each request (think())
    # Every simulated person has one connection at a time, as a browser's page load does.
    concurrency = 1
    max_redirects = 0

    def on_start(self) -> None:
        self.address = new_address()
        try:
            self.warm_up()
        except RescheduleTask:
            Outcome.warm_up_errors += 1  # the refusal's sample is kept; counted as an error
        Outcome.ready += 1
        WINDOW.wait()

    def warm_up(self) -> None:
        """What this person did before the measured window (not measured)."""

    def _send(self, method: str, path: str, name: str, expect: int, *,
              location: re.Pattern | str | None = None, body=None, content_type=None):
        """One request; an unexpected answer is an error and restarts the journey."""
        think()
        before_deadline()
        headers = {"X-Forwarded-For": self.address}
        if content_type:
            headers["Content-Type"] = content_type
        with self.client.request(method, path, name=name, data=body, headers=headers,
                                 allow_redirects=False, catch_response=True) as answer:
            problem = None
            if answer.status_code != expect:
                problem = f"{answer.status_code} instead of {expect}"
            elif location is not None:
                target = urlsplit(answer.headers.get("Location", "")).path
                ok = (location.search(target) if isinstance(location, re.Pattern)
                      else target == location)
                if not ok:
                    problem = f"redirect to {target!r}"
            if problem:
                answer.failure(problem)
                keep_sample(f"{method} {name}: {problem}", answer.text)
            else:
                answer.success()
        if problem:
            raise RescheduleTask()
        return answer

    def page(self, path: str, name: str):
        return self._send("GET", path, name, 200)

    def post_form(self, path: str, name: str, fields: dict, *, expect: int = 303,
                  location=None):
        body = urlencode(fields)
        return self._send("POST", path, name, expect, location=location, body=body,
                          content_type="application/x-www-form-urlencoded")


class Applicant(Browser):
    weight = 1
    _numbers = itertools.count()

    mid_session = False

    def warm_up(self) -> None:
        # First the seeded person this user stands for (part of the way through, see
        # bench/_load_seed.py resume()); after it, newcomers who register. Those with a
        # draft were working on it a moment ago: they are still logged in.
        number = next(Applicant._numbers)
        seeded = SETTINGS["applicants"]
        self.person = dict(seeded[number]) if number < len(seeded) else {"stage": "new"}
        if self.person["stage"] in ("draft", "quote"):
            self.log_in(self.person["email"])
            self.mid_session = True

    @task
    def apply(self) -> None:
        person, self.person = self.person, {"stage": "new"}
        stage, tag = person["stage"], uuid.uuid4().hex[:12]
        if self.mid_session:
            self.mid_session = False
            self.page("/apply/", "/apply/")  # back to the open tab
        else:
            self.address = new_address()  # each newcomer is someone else, somewhere else
            self.client.cookiejar.clear()
            if stage == "new":
                person["email"] = f"sme-{tag}@rush.example"
                self.register(person["email"])
                self.confirm_address(person["email"])
            else:
                self.log_in(person["email"])
        if stage in ("new", "confirmed"):
            self.describe_company(tag)
        application_id = person.get("application_id")
        if stage in ("new", "confirmed", "profile"):
            application_id = self.new_draft(tag)
        if stage != "quote":
            self.second_cost_line(application_id, tag)
            self.upload_quote(application_id)
        self.submit(application_id)

    def log_in(self, address: str) -> None:
        form = self.page("/account/login", "/account/login")
        self.post_form("/account/login", "/account/login", {
            "csrf_token": csrf_of(form.text), "email": address, "password": PASSWORD,
            "submit": "Log in"}, location="/apply/")
        self.page("/apply/", "/apply/")

    def register(self, address: str) -> None:
        form = self.page("/account/register", "/account/register")
        self.post_form("/account/register", "/account/register", {
            "csrf_token": csrf_of(form.text), "name": "Rush Applicant", "email": address,
            "password": PASSWORD, "confirm": PASSWORD, "submit": "Create my account"},
            location="/account/register/sent")
        Outcome.registered += 1
        self.page("/account/register/sent", "/account/register/sent")

    def confirm_address(self, address: str) -> None:
        started = time.monotonic()
        link = Mailbox.link(address, "verify_email", VERIFY_PATH)
        Outcome.mail_waits.append(time.monotonic() - started)
        page = self.page(link, "/account/verify/<token>")
        self.post_form(link, "/account/verify/<token>", {"csrf_token": csrf_of(page.text)},
                       location="/apply/profile")

    def describe_company(self, person: str) -> None:
        page = self.page("/apply/profile", "/apply/profile")
        self.post_form("/apply/profile", "/apply/profile", {
            "csrf_token": csrf_of(page.text), "legal_name": f"Rush SME {person} B.V.",
            "registry_number": f"RUSH{person}", "vat_number": "", "country": "IE",
            "region": "Southern", "size": "small", "sector": "biotech",
            "save": "Save company profile"}, location="/apply/")

    def _draft_fields(self, body: str, person: str, lines: int) -> dict:
        fields = {"csrf_token": csrf_of(body), "title": f"Payer study {person}",
                  "summary": "A health-economic model for the first payer meetings.",
                  "requested_amount": "6000.00",
                  "outcome": "Reimbursement talks with two payers",
                  "indicators": "Two payer meetings held"}
        for n in range(lines):
            fields[f"cost_lines-{n}-description"] = f"Modelling work, part {n + 1}"
            fields[f"cost_lines-{n}-amount"] = "7000.00"
        return fields

    def new_draft(self, tag: str) -> int:
        home = self.page("/apply/", "/apply/")
        offer = NEW_DRAFT.search(home.text)
        if offer is None:
            raise RuntimeError("the applicant's home offers no open call")
        form = self.page(offer.group(1), "/apply/new/<cvt>")
        saved = self.post_form(offer.group(1), "/apply/new/<cvt>",
                               {**self._draft_fields(form.text, tag, 1), "save": "Save draft"},
                               location=APPLICATION_PATH)
        path = urlsplit(saved.headers["Location"]).path
        self.page(path, "/apply/applications/<id>")
        return int(APPLICATION_PATH.search(path).group(1))

    def second_cost_line(self, application_id: int, tag: str) -> None:
        """Back to the draft: "Add a cost line" redraws the form, then the draft is saved."""
        path = f"/apply/applications/{application_id}"
        form = self.page(f"{path}/edit", "/apply/applications/<id>/edit")
        form = self.post_form(f"{path}/edit", "/apply/applications/<id>/edit (add a line)",
                              {**self._draft_fields(form.text, tag, 1),
                               "add_line": "Add a cost line"}, expect=200)
        self.post_form(f"{path}/edit", "/apply/applications/<id>/edit",
                       {**self._draft_fields(form.text, tag, 2), "save": "Save draft"},
                       location=path)

    def upload_quote(self, application_id: int) -> None:
        path = f"/apply/applications/{application_id}"
        page = self.page(path, "/apply/applications/<id>")
        body, content_type = multipart(
            {"csrf_token": csrf_of(page.text), "purpose": "application", "kind": "quote",
             "upload": "Upload"}, "file", "quote.pdf", QUOTE_PDF, "application/pdf")
        self._send("POST", f"{path}/attachments", "/apply/applications/<id>/attachments", 303,
                   location=path, body=body, content_type=content_type)

    def submit(self, application_id: int) -> None:
        path = f"/apply/applications/{application_id}"
        page = self.page(path, "/apply/applications/<id>")
        self.post_form(f"{path}/submit", "/apply/applications/<id>/submit", {
            "csrf_token": csrf_of(page.text), "publication_consent": "y"}, location=path)
        Outcome.submitted.append(application_id)
        self.page(path, "/apply/applications/<id>")


class Manager(Browser):
    fixed_count = 0  # set from the settings
    logged_in = False
    last_step = 0  # of the last second-factor code typed

    def warm_up(self) -> None:
        # At work already when the rush begins: logged in.
        self.account = SETTINGS["managers"][self.index_of_manager()]
        self.mine = set(self.account["ids"])
        self.log_in()

    _numbers = itertools.count()

    def index_of_manager(self) -> int:
        return next(Manager._numbers) % len(SETTINGS["managers"])

    def log_in(self) -> None:
        self.client.cookiejar.clear()
        form = self.page("/account/login", "/account/login")
        self.post_form("/account/login", "/account/login", {
            "csrf_token": csrf_of(form.text), "email": self.account["email"],
            "password": self.account["password"], "submit": "Log in"},
            location="/account/login/code")
        # The second factor the seed enrolled: the app's code, computed from its secret.
        # A code is accepted once, so a second login within one 30-second step types the
        # next step's (accepted: clocks drift by a step).
        import pyotp

        step = max(int(time.time()) // 30, self.last_step + 1)
        self.last_step = step
        form = self.page("/account/login/code", "/account/login/code")
        self.post_form("/account/login/code", "/account/login/code", {
            "csrf_token": csrf_of(form.text), "submit": "Continue",
            "code": pyotp.TOTP(self.account["totp_secret"]).at(step * 30)})
        self.logged_in = True

    @task
    def award_next(self) -> None:
        if not self.logged_in:
            self.log_in()
        table = "/manage/applications?" + urlencode({
            "call": SETTINGS["decide_call_id"], "state": "under_review",
            "country": self.account["country"]})
        listing = self.page(table, "/manage/applications")
        waiting = [int(i) for i in MANAGED.findall(listing.text) if int(i) in self.mine]
        if not waiting:
            return  # all awarded: the manager keeps an eye on the table
        path = f"/manage/applications/{waiting[0]}"
        page = self.page(path, "/manage/applications/<id>")
        self.post_form(f"{path}/actions/award", "/manage/applications/<id>/actions/award", {
            "award-csrf_token": csrf_of(page.text), "award-amount": "5000.00",
            "award-comment": "Awarded in the deadline rush."}, location=path)
        Outcome.awarded.append(waiting[0])
        self.page(path, "/manage/applications/<id>")


class Hello(Browser):
    """The reference: the same people, the same pacing, the least a Flask app does."""

    @task
    def hello(self) -> None:
        self._send("GET", "/", "/ (hello-world)", 200)


def run() -> dict:
    users = SETTINGS["users"]
    total = users + len(SETTINGS["managers"])
    if SETTINGS["mode"] == "hello":
        classes = [Hello]
    else:
        Manager.fixed_count = len(SETTINGS["managers"])
        classes = [Applicant, Manager]
    for cls in classes:
        cls.host = SETTINGS["base"]
    Mailbox.configure(SETTINGS["database"], SETTINGS["mail_folder"])
    env = Environment(user_classes=classes, events=events)
    runner = env.create_local_runner()
    # Everyone into place (the logins of those already at work), then the window opens
    # with the statistics afresh: everyone starts at once, each after its first pause.
    SETTINGS["deadline"] = float("inf")
    runner.start(total, spawn_rate=100)
    placed_by = time.time() + 300
    while Outcome.ready < total and time.time() < placed_by:
        gevent.sleep(0.1)
    env.stats.reset_all()
    cpu_before, own_before = cpu_seconds(SETTINGS["cpu_markers"]), time.process_time()
    started = time.time()
    SETTINGS["deadline"] = started + SETTINGS["seconds"]
    WINDOW.set()
    # After the deadline no user starts a request; wait for those in flight to answer.
    gevent.sleep(SETTINGS["seconds"])
    while runner.user_count and time.time() < SETTINGS["deadline"] + 60:
        gevent.sleep(0.2)
    stopped = time.time()
    cpu = cpu_seconds(SETTINGS["cpu_markers"]) - cpu_before
    own = time.process_time() - own_before
    runner.quit()
    return {**summary(env, stopped - started), "server_cpu": cpu, "generator_cpu": own}


def summary(env: Environment, seconds: float) -> dict:
    endpoints = []
    for (name, method), entry in sorted(env.stats.entries.items()):
        endpoints.append({
            "name": name, "method": method, "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "rps": entry.num_requests / seconds,
        })
    total = env.stats.total
    return {
        "seconds": seconds, "endpoints": endpoints, "requests": total.num_requests,
        "failures": total.num_failures, "p50": total.get_response_time_percentile(0.5),
        "p95": total.get_response_time_percentile(0.95), "rps": total.num_requests / seconds,
        "errors": [f"{e.method} {e.name}: {e.error} x{e.occurrences}"
                   for e in env.stats.errors.values()],
        "user_errors": Outcome.user_errors + Outcome.warm_up_errors,
        "error_samples": Outcome.error_samples,
        "submitted": Outcome.submitted,
        "awarded": Outcome.awarded, "registered": Outcome.registered,
        "mail_wait_p50": sorted(Outcome.mail_waits)[len(Outcome.mail_waits) // 2]
        if Outcome.mail_waits else None,
    }


if __name__ == "__main__":
    Path(sys.argv[2]).write_text(json.dumps(run()))
