"""Authorization-matrix cases of the call-rules routes (see tests/matrix_cases.py)."""

from __future__ import annotations

from tests.matrix_cases import Post, case, url
from vouchers.extensions import db
from vouchers.models import Programme


@case("manager.edit_programme")
def _(make):
    programme = make.call().programme
    data = {"name": programme.name, "funder": programme.funder, "total_budget": "2000000",
            "starts_on": "2026-01-01", "ends_on": "2028-12-31",
            "regions": "ES Catalonia\nNL North Brabant"}

    def done() -> bool:
        saved = db.session.get(Programme, programme.id)
        return saved.regions == [["ES", "Catalonia"], ["NL", "North Brabant"]]

    return Post("manager", make.manager(),
                url("manager.edit_programme", programme_id=programme.id), data=data, done=done)
