"""gunicorn's settings for `make serve` (`gunicorn -c vouchers/gunicorn_conf.py`).

The Makefile passes --workers and --bind; everything else is here. Not named
gunicorn.conf.py at the top of the checkout, which gunicorn would also pick up for the
benchmarks' hello-world reference servers.
"""

wsgi_app = "vouchers:create_app()"

# gunicorn's own lines (booting, workers started and killed) as JSON like the app's.
# gunicorn's access log stays silent (it writes at INFO, below its logger's level): the app
# writes one access line per request (vouchers/logging_setup.py) with the request id and
# the user, and without the query string, which may hold a token.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},
    "formatters": {"json": {"()": "vouchers.logging_setup.json_formatter"}},
    "handlers": {"stderr": {"class": "vouchers.logging_setup.StderrHandler",
                            "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}

# The scheme and the client's address come from X-Forwarded-* only through werkzeug's
# ProxyFix, when TRUSTED_PROXIES says how many proxies stand in front (vouchers/security.py):
# one switch, not gunicorn's own trust of any local proxy's headers besides it.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# No control socket (gunicornc): nothing here uses it, and every gunicorn of a user shares
# its default path, so the benchmarks' reference server would take over this one's.
control_socket_disable = True

# Long requests (a large workbook without Redis) finish; a worker stuck longer is replaced.
timeout = 120
graceful_timeout = 30


def on_starting(server) -> None:
    """Build the app once in the master before any worker: a refusal (development secret
    or SQLite in production, vouchers/config.py) stops gunicorn with its one-line message,
    instead of each worker failing to boot in turn."""
    from vouchers import create_app

    create_app()
