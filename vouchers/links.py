"""Absolute links for e-mails, built from BASE_URL and never from the request's Host.

A reset link built from the Host header would let anyone who can send a request with a
forged Host have the victim's reset link point at their own server. Built on the URL
map directly, so a CLI command or a job builds the same links as a request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under the configured BASE_URL (which may carry a
    path prefix, like ``https://grants.example.org/vouchers``)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)
