"""Shapes shared by the API's routes: problem documents, money, pages of a list.

Money is a decimal *string* ("5000.00"): JSON numbers are binary floats in most
clients, and every euro must arrive to the cent.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class DecimalString(fields.Decimal):
    """A decimal sent as a string; the document says so ("type": "string", "format":
    "decimal"), registered in vouchers/api/__init__.py."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)


def Money(**kwargs) -> fields.Decimal:  # noqa: N802 (reads like a field class)
    return DecimalString(places=2, **kwargs)


class PageLinksSchema(Schema):
    self_ = fields.String(data_key="self", required=True)
    next = fields.String(allow_none=True, required=True)
    prev = fields.String(allow_none=True, required=True)


class PageQuerySchema(Schema):
    # A Range, not a lambda: marshmallow 4 ignores what a validator returns.
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10**6))
    per_page = fields.Integer(load_default=25, validate=validate.Range(1, 100))


def page_links(endpoint: str, page: int, pages: int, **values) -> dict:
    """Links to this page and its neighbours, as absolute paths with their query."""
    from flask import url_for

    def link(n: int) -> str:
        return url_for(endpoint, page=n, **values)

    return {"self_": link(page), "next": link(page + 1) if page < pages else None,
            "prev": link(page - 1) if page > 1 else None}
