"""Load test: the last minutes before a call's deadline, on the production stack.

    .venv/bin/python bench/load_deadline_rush.py [--seconds 60] [--users 200] [--managers 5]
        [--think 2.0] [--workers 4] [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

On loopback only, with `make serve`'s settings: gunicorn (4 sync workers,
vouchers/gunicorn_conf.py, APP_ENV=production) serving the app on a fresh PostgreSQL
database, and the job worker (`flask worker` on Redis, which also sends the mail, here
into files), or the mail sender (`flask send-mail --loop`) where that command does not
exist. The database holds an open call for the applicants and a call being decided,
whose applications are reviewed (bench/_load_seed.py).

Locust (bench/_load_users.py, in its own process) then runs for ``--seconds``: ``--users``
applicants and ``--managers`` managers. At the deadline the applicants are spread along the
way: one in five registers (reading the link from the verification mail and confirming the
address); the others return with a confirmed account or a company profile (and log in), or
with a draft, or a draft and its quote (working on it a moment ago: still logged in, as the
managers are; those logins happen before the measured window). Each goes on from there:
describes the company, starts a draft, saves it again with a second cost line, uploads a
quote (PDF), ticks the consent and submits; then a new applicant registers in their place.
Each manager opens the table of the reviewed applications of its country and awards them one
after another. Every person pauses ``--think`` seconds on average (uniform in 0.5x-1.5x)
before every request.

The reference: the same number of people with the same pacing, each loading the page of
bench/hello_app.py with as many gunicorn workers of the same kind (sync, one thread), for
the same time. The ratio printed
is requests per second served by the app / by hello-world under that same load shape: 1.0x
means the app kept up with the people as the least a Flask app would; below, it made them
wait. The p50 ratio says how much longer a page takes than hello-world's.

Then the check that nothing was lost: every submission answered with success (the 303 to
the application page) has its row (submitted), its audit record and its receipt e-mail in
the outbox; every award likewise (awarded, its audit record, its mail). Errors are the
answers a browser would not expect (a status or redirect other than the form's success),
journeys that broke off (a page without its form, a mail that never came) and the lines
at level ERROR or tracebacks in the server's and the worker's logs.

Throttling: the server is told it stands behind one reverse proxy (TRUSTED_PROXIES=1) and
each simulated person sends its own address in X-Forwarded-For, as a proxy would; nothing
in the app's limits is changed (20 registrations per address in 15 minutes would otherwise
stop the rush after 20 applicants from 127.0.0.1).

The last line: "deadline rush: N submissions, E errors, L lost, p95 ... ms, X req/s = R.Rx
hello-world (targets: 0 errors, 0 lost)", with MISSED when a target is missed (or when
no submission was answered in the window, which leaves nothing to check). The exit
status is 0 unless something crashed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench._servers import HELLO_APP, ROOT, gunicorn  # noqa: E402

DATABASE = "vouchers_load_rush"
# A Redis database of its own, emptied before and after: no other test's queue is touched.
REDIS_URL = "redis://127.0.0.1:6379/13"
FLASK = str(Path(sys.executable).with_name("flask"))
USERS_SCRIPT = str(Path(__file__).with_name("_load_users.py"))


def fresh_database(base_url: str) -> str:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return make_url(base_url).set(database=DATABASE).render_as_string(hide_password=False)


def drop_database(base_url: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, instance: str, managers: int, per_manager: int, applicants: int) -> dict:
    from bench import _load_seed
    from bench._common import make_app
    from vouchers.extensions import db

    # The server's key: the managers' second-factor secrets are encrypted with it.
    app = make_app(url, instance, SECRET_KEY="load-rush-secret-key")
    with app.app_context():
        seeded = _load_seed.populate(managers, per_manager, applicants).as_dict()
        db.engine.dispose()
    return seeded


def empty_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def logged_errors(log: Path) -> list[str]:
    """The server's or the worker's lines at level ERROR or above, and tracebacks."""
    if not log.exists():
        return []
    return [line for line in log.read_text(errors="replace").splitlines()
            if re.search(r'"level(?:name)?": ?"(?:ERROR|CRITICAL)"|Traceback|\bERROR\b', line)]


def served_times(log: Path) -> list[float]:
    """The app's own time for each request (its access lines' duration_ms): the client's
    time less this is the wait in gunicorn's queue."""
    times = []
    for line in log.read_text(errors="replace").splitlines():
        if '"duration_ms"' in line:
            try:
                times.append(float(json.loads(line)["duration_ms"]))
            except (ValueError, KeyError, TypeError):
                continue
    return sorted(times)


def has_job_worker(env: dict) -> bool:
    probe = subprocess.run([FLASK, "--app", "vouchers", "worker", "--help"], cwd=ROOT,
                           env={**os.environ, **env}, capture_output=True, timeout=60)
    return probe.returncode == 0


@contextmanager
def background(command: list[str], env: dict, log: Path):
    """A worker process for the length of the run (its output in ``log``)."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def drive(settings: dict, folder: Path, name: str) -> dict:
    """Run the simulated people (bench/_load_users.py) and read what they measured."""
    settings_file, results_file = folder / f"{name}-settings.json", folder / f"{name}.json"
    settings_file.write_text(json.dumps(settings))
    subprocess.run([sys.executable, USERS_SCRIPT, str(settings_file), str(results_file)],
                   cwd=ROOT, check=True, timeout=settings["seconds"] + 180,
                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return json.loads(results_file.read_text())


LOST_SUBMISSIONS = """
SELECT a.id FROM applications a WHERE a.id = ANY(:ids) AND NOT (
    a.submitted_at IS NOT NULL AND a.state <> 'draft'
    AND EXISTS (SELECT 1 FROM audit_records r WHERE r.application_id = a.id
                AND r.trigger = 'submit')
    AND EXISTS (SELECT 1 FROM outbox_messages m WHERE m.application_id = a.id
                AND m.kind = 'submitted'))
"""
LOST_AWARDS = """
SELECT a.id FROM applications a WHERE a.id = ANY(:ids) AND NOT (
    a.state = 'awarded' AND a.awarded_amount IS NOT NULL
    AND EXISTS (SELECT 1 FROM audit_records r WHERE r.application_id = a.id
                AND r.trigger = 'award')
    AND EXISTS (SELECT 1 FROM outbox_messages m WHERE m.application_id = a.id
                AND m.kind = 'awarded'))
"""


def lost(url: str, submitted: list[int], awarded: list[int]) -> tuple[list[int], list[int]]:
    """The answered-with-success submissions and awards whose writes are not all there
    (an id answered but absent from the table is lost too)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        gone = []
        for query, ids in ((LOST_SUBMISSIONS, submitted), (LOST_AWARDS, awarded)):
            present = set(conn.scalars(text("SELECT id FROM applications WHERE id = ANY(:ids)"),
                                       {"ids": ids}))
            missing = [i for i in ids if i not in present]
            gone.append(missing + list(conn.scalars(text(query), {"ids": ids})))
        mail = dict(conn.execute(text(
            "SELECT status, count(*) FROM outbox_messages GROUP BY status")).all())
    engine.dispose()
    print(f"outbox after the run: {mail}")
    return gone[0], gone[1]


def print_endpoints(result: dict) -> None:
    print(f"{'endpoint':<52} {'method':<6} {'requests':>8} {'errors':>6} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'req/s':>7}")
    for e in result["endpoints"]:
        print(f"{e['name']:<52} {e['method']:<6} {e['requests']:>8} {e['failures']:>6} "
              f"{e['p50']:>7.0f} {e['p95']:>7.0f} {e['rps']:>7.1f}")
    print(f"{'all':<52} {'':<6} {result['requests']:>8} {result['failures']:>6} "
          f"{result['p50']:>7.0f} {result['p95']:>7.0f} {result['rps']:>7.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=200, help="applicants at once")
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean pause between two pages, in seconds")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--database-url",
                        default=os.environ.get("BENCH_POSTGRES_URL",
                                               "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    # Enough reviewed applications that no manager runs out: an award takes at least
    # four pages (about 4 x think seconds), never less than 0.2 s.
    per_manager = max(20, int(args.seconds / max(4 * args.think, 0.2)) + 10)

    with tempfile.TemporaryDirectory(prefix="load-rush-") as tmp:
        folder = Path(tmp)
        url = fresh_database(args.database_url)
        try:
            return run(args, url, folder, per_manager)
        finally:
            drop_database(args.database_url)


def run(args, url: str, folder: Path, per_manager: int) -> int:
    instance = folder / "instance"
    seeded = seed(url, str(instance), args.managers, per_manager, args.users)
    # `make serve`'s settings: production, its gunicorn settings file, the job worker on
    # Redis (which also sends the mail, into files here). Plain HTTP on loopback, so the
    # session cookie is not marked Secure; one trusted proxy in front (see the docstring).
    env = {"APP_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": "load-rush-secret-key",
           "SESSION_COOKIE_SECURE": "0", "INSTANCE_PATH": str(instance),
           "UPLOAD_FOLDER": str(instance / "uploads"), "MAIL_BACKEND": "file",
           "MAIL_FOLDER": str(folder / "mail"), "TRUSTED_PROXIES": "1",
           "REDIS_URL": REDIS_URL, "RQ_QUEUE": "load-rush"}
    empty_redis()
    worker = ([FLASK, "--app", "vouchers", "worker"] if has_job_worker(env)
              else [FLASK, "--app", "vouchers", "send-mail", "--loop", "--interval", "0.5"])
    settings = {"users": args.users, "seconds": args.seconds, "think": args.think,
                "database": url.replace("postgresql+psycopg://", "postgresql://"),
                "mail_folder": env["MAIL_FOLDER"], **seeded}
    # The machine's other work takes CPU from both runs alike only if it stays the same.
    print("load average before the run: {:.1f} {:.1f} {:.1f} on {} cores".format(
        *os.getloadavg(), os.cpu_count()))
    print(f"deadline rush: {args.users} applicants and {args.managers} managers for "
          f"{args.seconds} s, think {args.think} s, gunicorn {args.workers} workers, "
          f"PostgreSQL, {' '.join(worker[3:])} ({per_manager} reviewed applications a manager)",
          flush=True)
    server_log = folder / "server.log"
    with background(worker, env, folder / "worker.log"), server_log.open("w") as log, \
            gunicorn("vouchers:create_app()", workers=args.workers, env=env, stderr=log,
                     config="vouchers/gunicorn_conf.py") as base:
        rush = drive({**settings, "base": base, "mode": "rush",
                      "cpu_markers": [base.split("//")[1], DATABASE]}, folder, "rush")
    empty_redis()
    logged = logged_errors(server_log) + logged_errors(folder / "worker.log")
    inside = served_times(server_log)
    with gunicorn(HELLO_APP, workers=args.workers) as base:
        hello = drive({**settings, "base": base, "mode": "hello",
                       "cpu_markers": [base.split("//")[1]]}, folder, "hello")

    print("load average after the runs: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print_endpoints(rush)
    print(f"hello-world, the same {args.users + args.managers} people and pacing: "
          f"{hello['requests']} requests, p50 {hello['p50']:.0f} ms, p95 {hello['p95']:.0f} ms, "
          f"{hello['rps']:.1f} req/s, {hello['failures']} errors")
    lost_submissions, lost_awards = lost(url, rush["submitted"], rush["awarded"])
    for line in logged[:10]:
        print(f"  logged: {line[:300]}")
    errors = rush["failures"] + rush["user_errors"] + len(logged)
    for sample in rush["error_samples"]:
        print(f"  error: {sample}")
    for name, ids in (("submissions", lost_submissions), ("awards", lost_awards)):
        if ids:
            print(f"  lost {name}: {ids[:20]}")
    print(f"registered {rush['registered']}, awarded {len(rush['awarded'])} "
          f"({len(lost_awards)} lost), median wait for the verification mail "
          f"{(rush['mail_wait_p50'] or 0) * 1000:.0f} ms; app p50 {rush['p50']:.0f} ms = "
          f"{rush['p50'] / max(hello['p50'], 1):.1f}x hello-world's")
    # What a request costs the server whatever else the machine runs: the CPU time of the
    # gunicorn workers (and, for the app, of its PostgreSQL backends) in the window.
    app_cpu = rush["server_cpu"] / max(rush["requests"], 1) * 1000
    hello_cpu = hello["server_cpu"] / max(hello["requests"], 1) * 1000
    print(f"server CPU a request: app {app_cpu:.1f} ms (gunicorn and PostgreSQL), hello-world "
          f"{hello_cpu:.2f} ms; at that cost {os.cpu_count()} idle cores would serve about "
          f"{os.cpu_count() * 1000 / max(app_cpu, 0.001):.0f} app requests a second; "
          f"the load generator used {rush['generator_cpu'] / rush['seconds'] * 100:.0f}% "
          f"of a core (hello-world run: {hello['generator_cpu'] / hello['seconds'] * 100:.0f}%)")
    if inside:
        print(f"inside the app (its access log, warm-up included): p50 "
              f"{inside[len(inside) // 2]:.0f} ms, p95 {inside[int(len(inside) * 0.95)]:.0f} ms; "
              f"the rest of the p50 above is the wait in gunicorn's queue")
    ratio = rush["rps"] / hello["rps"] if hello["rps"] else 0.0
    gone = len(lost_submissions) + len(lost_awards)
    # With no submission answered there is nothing to check: not a pass.
    missed = errors > 0 or gone > 0 or not rush["submitted"]
    if not rush["submitted"]:
        print("  no submission was answered within the run: nothing lost is not shown")
    print(f"deadline rush: {len(rush['submitted'])} submissions, {errors} errors, {gone} lost, "
          f"p95 {rush['p95']:.0f} ms, {rush['rps']:.1f} req/s = {ratio:.2f}x hello-world "
          f"(targets: 0 errors, 0 lost){'  MISSED' if missed else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
