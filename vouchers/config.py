"""Configuration from environment variables, with defaults safe for a laptop."""

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/.

    Kept in a file rather than in memory so that every gunicorn worker and every restart
    signs sessions with the same key.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


class UnsafeProductionSettings(SystemExit):
    """The app refuses to run in production with development settings.

    A SystemExit, so that the flask command, gunicorn's master (vouchers/gunicorn_conf.py)
    and Python itself print the one-line message and exit 1 instead of a traceback.
    """


def refuse_unsafe_production(config) -> None:
    """In production (APP_ENV=production, which `make serve` sets), refuse the generated
    development secret and SQLite unless an explicit ALLOW_ flag says so."""
    if config.get("APP_ENV") != "production":
        return
    problems = []
    if config.get("SECRET_KEY_SOURCE") != "environment" and not config.get(
            "ALLOW_GENERATED_SECRET_KEY"):
        problems.append("SECRET_KEY is not set, so sessions would be signed with the "
                        "development key of instance/secret_key (set SECRET_KEY, or "
                        "ALLOW_GENERATED_SECRET_KEY=1 to keep that key)")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not config.get(
            "ALLOW_SQLITE_IN_PRODUCTION"):
        problems.append("DATABASE_URL is SQLite (set DATABASE_URL=postgresql://..., or "
                        "ALLOW_SQLITE_IN_PRODUCTION=1 for a single-machine SQLite)")
    if problems:
        raise UnsafeProductionSettings("Refusing to start with APP_ENV=production: "
                                       + "; ".join(problems) + ".")


# Where mail links point when BASE_URL is not set: right for `make run` only. The sender
# refuses to deliver over SMTP with it (cli_mail.py) unless BASE_URL is set explicitly.
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
# A claim on a message lasts at least this many SMTP timeouts: one message is a handful of
# blocking socket operations (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, the data,
# the final reply), each of which may take up to MAIL_TIMEOUT, and a claim that ran out
# while its sender still waits lets another sender send the message a second time.
CLAIM_PER_TIMEOUT = 20


def mail_settings(instance_path: str) -> dict:
    """Mail: over SMTP when MAIL_SERVER is set; else into files under instance/mail/ (shown
    to managers on the mailbox page), so development needs no mail server.

    MAIL_BACKEND=file writes files even with MAIL_SERVER set; MAIL_BACKEND=smtp without a
    MAIL_SERVER makes the sender refuse to start (cli_mail.py), as does SMTP with the
    default BASE_URL.
    """
    server = os.environ.get("MAIL_SERVER", "").strip()
    backend = os.environ.get("MAIL_BACKEND", "").strip().lower() or ("smtp" if server else "file")
    # The SMTP timeout stays well below the claim (30 s against 600 s by default): the
    # claim is raised to CLAIM_PER_TIMEOUT timeouts when MAIL_TIMEOUT is set higher.
    timeout = max(1, int(os.environ.get("MAIL_TIMEOUT", "30")))
    claim = max(int(os.environ.get("MAIL_CLAIM_SECONDS", "600")), CLAIM_PER_TIMEOUT * timeout)
    base_url = os.environ.get("BASE_URL", "").strip()
    return {
        "MAIL_SERVER": server,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_FROM",
                                              "Voucher programme <vouchers@localhost>"),
        "MAIL_TIMEOUT": timeout,
        # Retries with growing delays (services/mail_sender.py), and how long a sender's
        # claim on a message lasts before another sender may take it over.
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", "12")),
        "MAIL_RETRY_BASE_SECONDS": int(os.environ.get("MAIL_RETRY_BASE_SECONDS", "60")),
        "MAIL_RETRY_MAX_SECONDS": int(os.environ.get("MAIL_RETRY_MAX_SECONDS", str(6 * 3600))),
        "MAIL_CLAIM_SECONDS": claim,
        "MAIL_BACKEND": backend,
        "MAIL_FILE_PATH": os.environ.get("MAIL_FOLDER", str(Path(instance_path) / "mail")),
        # Links in e-mails point here, never at the request's Host header.
        "BASE_URL": base_url or DEFAULT_BASE_URL,
        "BASE_URL_SET": bool(base_url),
        # What account mails call the programme; unset: the newest programme's name.
        "PROGRAMME_NAME": os.environ.get("PROGRAMME_NAME", ""),
        # Reminders (services/reminders.py): this many days before a deadline, and once
        # more when it has passed.
        "REVIEW_REMINDER_DAYS": int(os.environ.get("REVIEW_REMINDER_DAYS", "3")),
        "REPORT_REMINDER_DAYS": int(os.environ.get("REPORT_REMINDER_DAYS", "14")),
        # A follow-up survey still unanswered this many days after it went out is
        # reminded of, once (services/surveys.py).
        "SURVEY_REMINDER_DAYS": int(os.environ.get("SURVEY_REMINDER_DAYS", "14")),
        # How long the links mailed for a password reset, an address's verification and
        # a changed address work (services/account_tokens.py).
        "PASSWORD_RESET_SECONDS": int(os.environ.get("PASSWORD_RESET_SECONDS", "3600")),
        "EMAIL_VERIFY_SECONDS": int(os.environ.get("EMAIL_VERIFY_SECONDS", str(7 * 86400))),
        "EMAIL_CHANGE_SECONDS": int(os.environ.get("EMAIL_CHANGE_SECONDS", "86400")),
        # Daily digests go out from this hour of the programme's day.
        "MAIL_DIGEST_HOUR": int(os.environ.get("MAIL_DIGEST_HOUR", "7")),
    }


def job_settings(instance_path: str) -> dict:
    """Long work off the request path (vouchers/jobs/): on RQ when REDIS_URL is set, else
    on a few threads of the web process; the files jobs make, and how long they are kept."""
    return {
        "REDIS_URL": os.environ.get("REDIS_URL", "").strip(),
        "RQ_QUEUE": os.environ.get("RQ_QUEUE", "vouchers").strip() or "vouchers",
        "JOBS_FOLDER": os.environ.get("JOBS_FOLDER", str(Path(instance_path) / "jobs")),
        "JOB_FILE_SECONDS": int(os.environ.get("JOB_FILE_SECONDS", str(24 * 3600))),
        # A job running (or queued) longer than this is taken as lost (its worker died).
        "JOB_TIMEOUT_SECONDS": int(os.environ.get("JOB_TIMEOUT_SECONDS", "1800")),
        "JOB_THREADS": int(os.environ.get("JOB_THREADS", "2")),
        # How often the worker removes expired files and sends the mail that is due.
        "JOB_SWEEP_SECONDS": int(os.environ.get("JOB_SWEEP_SECONDS", "60")),
        # How long anonymous visitors' public pages are kept (vouchers/page_cache.py, on
        # Redis too when REDIS_URL is set); 0 turns the cache off.
        "PAGE_CACHE_SECONDS": int(os.environ.get("PAGE_CACHE_SECONDS", "5")),
    }


def from_environment(instance_path: str) -> dict:
    default_db = "sqlite:///" + str(Path(instance_path) / "vouchers.db")
    database_url = os.environ.get("DATABASE_URL", default_db)
    if database_url.startswith("postgres://"):  # the scheme some hosts still hand out
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    production = os.environ.get("APP_ENV", "").strip().lower() == "production"
    return mail_settings(instance_path) | job_settings(instance_path) | {
        "APP_ENV": "production" if production else "development",
        "SECRET_KEY": _secret_key(instance_path),
        "SECRET_KEY_SOURCE": "environment" if os.environ.get("SECRET_KEY") else "instance file",
        "ALLOW_GENERATED_SECRET_KEY": _flag("ALLOW_GENERATED_SECRET_KEY"),
        "ALLOW_SQLITE_IN_PRODUCTION": _flag("ALLOW_SQLITE_IN_PRODUCTION"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(Path(instance_path) / "uploads")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)),
        "PROGRAMME_TIMEZONE": os.environ.get("PROGRAMME_TIMEZONE", "Europe/Brussels"),
        # The API's budget per token, user or address (Flask-Limiter's syntax).
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "").strip() or "600/minute",
        # How long personal data is kept (services/retention.py; purge-expired erases it).
        **{name: int(os.environ.get(name, default)) for name, default in (
            ("RETENTION_YEARS", "5"), ("DE_MINIMIS_RETENTION_YEARS", "10"),
            ("ACCOUNT_DISABLE_AFTER_DAYS", str(3 * 365)),
            ("ACCOUNT_ANONYMISE_AFTER_DAYS", str(5 * 365)))},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Production is served over HTTPS: cookies never travel in clear there, unless
        # SESSION_COOKIE_SECURE=0 says the deployment has no HTTPS (a loopback load test).
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", "1" if production else "0"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", "1" if production else "0"),
    }
