"""Benchmark: the public pages' requests per second against a hello-world Flask app.

    .venv/bin/python bench/bench_public_page.py [--seconds S] [--workers W] [--database-url URL]

The app runs under gunicorn as `make serve` runs it (vouchers/gunicorn_conf.py,
APP_ENV=production: JSON access lines, one per request, written to /dev/null here), on a
database migrated with Alembic and holding the demo programme (`flask demo`): SQLite in a
temporary folder unless --database-url names an empty PostgreSQL database. The reference
is bench/hello_app.py under the same gunicorn settings (workers, threads). Debian's wrk
loads each in turn from the same machine with the same connections, in the same minute;
the best of three turns of each counts.

Measured as an anonymous visitor (no cookie): the home page with the open calls, and the
public list of operations; then the home page once more with the page cache off
(PAGE_CACHE_SECONDS=0), which is what every visitor cost before it. Target: the home page
at >= 0.35x hello-world's requests per second. A missed target prints MISSED; the exit
status is 0 unless something crashed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import make_app  # noqa: E402
from bench._servers import HELLO_APP, gunicorn, have_wrk, wrk  # noqa: E402

TARGET = 0.35
APP = "vouchers:create_app()"
SERVE_CONFIG = "vouchers/gunicorn_conf.py"  # `make serve`'s settings file
PAGES = (("home", "/"), ("operations", "/operations"))


def prepare(url: str, instance: str) -> None:
    """Migrate ``url`` and load the demo programme, as `make run` does."""
    from vouchers.demo import load_demo
    from vouchers.extensions import db

    app = make_app(url, instance)
    with app.app_context():
        load_demo()
        db.session.commit()
        db.engine.dispose()


def server_env(url: str, instance: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": url, "INSTANCE_PATH": instance, "APP_ENV": "production",
        "SECRET_KEY": "bench-public-page-secret-key", "ALLOW_SQLITE_IN_PRODUCTION": "1",
        # Loopback HTTP: no HTTPS here (the cookie flag does not change the work done).
        "SESSION_COOKIE_SECURE": "0", "REDIS_URL": "", **extra,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per turn")
    parser.add_argument("--rounds", type=int, default=3, help="turns per contender")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url", help="an empty database (default: SQLite file)")
    args = parser.parse_args()
    if not have_wrk():
        print("public page: wrk is not installed (apt-get install wrk)  MISSED: not measured")
        return 0

    settings = {"workers": args.workers, "stderr": subprocess.DEVNULL}
    with tempfile.TemporaryDirectory() as instance:
        url = args.database_url or "sqlite:///" + os.path.join(instance, "public.db")
        prepare(url, instance)
        # All three servers up at once (an idle one costs nothing), measured in turns, the
        # best of each kept: on a shared machine a neighbour's burst then lowers one turn
        # of one contender, not the whole figure of one of them.
        with (gunicorn(HELLO_APP, **settings) as hello_base,
              gunicorn(APP, env=server_env(url, instance), config=SERVE_CONFIG,
                       **settings) as app_base,
              gunicorn(APP, env=server_env(url, instance, PAGE_CACHE_SECONDS="0"),
                       config=SERVE_CONFIG, **settings) as uncached_base):
            targets = {"hello": hello_base + "/", "uncached": uncached_base + "/",
                       **{name: app_base + path for name, path in PAGES}}
            for target in targets.values():
                wrk(target, seconds=1, connections=args.connections)  # warm up
            best = dict.fromkeys(targets, 0.0)
            for _ in range(args.rounds):
                for name, target in targets.items():
                    best[name] = max(best[name], wrk(target, seconds=args.seconds,
                                                     connections=args.connections))
    hello, uncached = best.pop("hello"), best.pop("uncached")
    figures = best

    print(f"-- gunicorn {args.workers} workers, wrk {args.connections} connections "
          f"{args.rounds} x {args.seconds} s (best turn), load average {os.getloadavg()[0]:.1f}")
    print(f"   hello-world          {hello:8.0f} req/s")
    for name, rps in figures.items():
        print(f"   {name:20} {rps:8.0f} req/s  {rps / hello:5.2f}x hello-world")
    print(f"   home, cache off      {uncached:8.0f} req/s  {uncached / hello:5.2f}x hello-world")
    ratio = figures["home"] / hello
    worst = min(figures.values()) / hello
    missed = [n for n, rps in figures.items() if rps / hello < TARGET]
    print(f"public page: anonymous home page {figures['home']:.0f} req/s against hello-world "
          f"{hello:.0f} req/s: ratio {ratio:.2f}x (operations {figures['operations'] / hello:.2f}x"
          f", lowest {worst:.2f}x; cache off {uncached / hello:.2f}x) (target >= {TARGET}x)"
          + (f"  MISSED: {', '.join(missed)}" if missed else "  met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
