"""Public API: the open calls, with what each voucher type offers and what is left."""

from __future__ import annotations

from marshmallow import Schema, fields

from .. import policy
from ..models.base import utcnow
from ..services.calls import open_calls
from .boundary import api_route
from .identity import api_blueprint
from .schemas import DecimalString, Money

bp = api_blueprint("public", __name__, "/calls", "Open calls, for anyone.")
BLUEPRINTS = [bp]


class OfferSchema(Schema):
    voucher_type = fields.String(required=True)
    label = fields.String(required=True)
    quota = fields.Integer(required=True)
    max_amount = Money(required=True)
    funding_rate = DecimalString(required=True)
    vouchers_available = fields.Integer(required=True)
    remaining_envelope = Money(required=True)


class OpenCallSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    programme = fields.String(required=True)
    funder = fields.String(required=True)
    currency = fields.String(required=True)
    opens_at = fields.DateTime(required=True)
    closes_at = fields.DateTime(required=True)
    voucher_types = fields.List(fields.Nested(OfferSchema), required=True)


def offer(cvt) -> dict:
    allocation = cvt.allocation  # the one definition of what is left (vouchers/figures.py)
    return {"voucher_type": cvt.voucher_type, "label": cvt.label, "quota": cvt.quota,
            "max_amount": cvt.max_amount, "funding_rate": cvt.funding_rate,
            "vouchers_available": allocation.vouchers_available,
            "remaining_envelope": allocation.remaining_envelope}


def open_call(call) -> dict:
    return {"id": call.id, "code": call.code, "title": call.title,
            "description": call.description or "", "programme": call.programme.name,
            "funder": call.programme.funder, "currency": call.programme.currency,
            "opens_at": call.opens_at, "closes_at": call.closes_at,
            "voucher_types": [offer(t) for t in call.voucher_types]}


@api_route(bp, "", permission=policy.can_visit)
@bp.etag
@bp.response(200, OpenCallSchema(many=True))
def calls():
    """The calls open now, each with its voucher types, quotas, maxima and what is left."""
    return [open_call(c) for c in open_calls(utcnow())]
