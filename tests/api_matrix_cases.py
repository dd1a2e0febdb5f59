"""What the API's authorization matrix (tests/test_api_matrix.py) needs to know beyond the
URL map, the routes' declared predicates and the page matrix's world and ALLOWED_BY.

Kept short on purpose: who may pass is never written here (ALLOWED_BY is the one
place), only how an allowed persona's GET answers when that is not a plain 200, and the
URL values the API's rules name differently from the pages'.
"""

from __future__ import annotations

# endpoint -> the statuses an allowed persona's GET may answer, when not 200 (each must
# be documented on the route: the schemathesis run checks that).
GET_STATUSES: dict[str, set[int]] = {}

# URL argument of an API rule -> the page world's argument that names the same object.
SAME_AS: dict[str, str] = {}

# A body a refused persona sends with a write: the refusal comes before the body is read
# (api_route checks the permission first), so any body will do; this one looks real.
WRITE_BODY = {"comment": "x", "reason": "x", "amount": "1", "note": "x"}


def url_args(args: dict) -> dict:
    """The world's URL values, with the API's names for them."""
    return args | {api: args[page] for api, page in SAME_AS.items() if page in args}
