"""What the deadline rush's simulated browsers read from pages and send (bench/_load_users.py),
and what the seeded applicants were given (bench/_load_seed.py): no gevent, no app."""

from __future__ import annotations

import html
import os
import re
import uuid
from pathlib import Path

CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*\bvalue="([^"]+)"')
VERIFY_PATH = re.compile(r"/account/verify/[A-Za-z0-9_-]+")
NEW_DRAFT = re.compile(r'href="(/apply/new/\d+)"')
APPLICATION_PATH = re.compile(r"^/apply/applications/(\d+)$")
MANAGED = re.compile(r'href="/manage/applications/(\d+)"')
# A small genuine PDF: the upload's first bytes are checked (services/attachments.py).
QUOTE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
# Every simulated applicant's password (it passes the app's password policy).
PASSWORD = "lantern-orchard-quietly-77"


def csrf_of(body: str) -> str:
    found = CSRF.search(body)
    if not found:
        raise ValueError("no CSRF token on the page")
    return html.unescape(found.group(1))


def multipart(fields: dict[str, str], file_field: str, filename: str, content: bytes,
              content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends a form with a file input."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                 + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def cpu_seconds(markers: list[str]) -> float:
    """CPU time (user + system) used so far by the processes whose command line holds one
    of ``markers``: the gunicorn master and workers bound to a port ("127.0.0.1:<port>"),
    PostgreSQL's backends of a database (their process title names it)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes()
            if not any(m.encode() in command for m in markers):
                continue
            fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / tick
    return total
