"""Which address a request's failed logins count against (services/logins.py counts them)."""

from __future__ import annotations

import ipaddress

from flask import request


def address_key(remote_addr: str | None) -> str:
    """The address to count failures against.

    An IPv6 user usually holds a whole /64, so counting single addresses there would
    let one attacker rotate through billions of them.
    """
    try:
        ip = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def request_address() -> str:
    """This request's address key (behind a proxy, see security.py's TRUSTED_PROXIES)."""
    return address_key(request.remote_addr)
