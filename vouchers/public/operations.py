"""The public list of operations (Regulation (EU) 2021/1060, Art. 49(3)): a page, a CSV
and a JSON file, for anyone, read live from the database at each request
(vouchers/services/operations_list.py chooses the vouchers and the published fields;
exports/operations_list.py writes the files)."""

from __future__ import annotations

from flask import abort, current_app, render_template, request

from exports.operations_list import CSV_MIMETYPE, ENCODING, operations_csv, operations_json

from .. import policy
from ..boundary import route
from ..clock import today
from ..models import Programme
from ..page_cache import visitor_page
from ..services.operations_list import operations, programme_named, programmes
from .views import bp


def _programme() -> Programme | None:
    """The ?programme= filter: none for the whole list; an unknown one answers 404."""
    programme_id = request.args.get("programme", type=int)
    if programme_id is None:
        return None
    return programme_named(programme_id) or abort(404)


def _file(body: str, mimetype: str, name: str):
    response = current_app.response_class(body.encode(ENCODING),
                                          content_type=f"{mimetype}; charset={ENCODING}")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _args(programme: Programme | None) -> dict:
    return {"programme": programme.id} if programme else {}


@route(bp, "/operations", permission=policy.can_visit)
@visitor_page
def operations_page():
    programme = _programme()
    return render_template("public/operations.html", programme=programme,
                           programmes=programmes(), args=_args(programme), listed_on=today(),
                           rows=list(operations(programme.id if programme else None)))


@route(bp, "/operations.csv", permission=policy.can_visit)
@visitor_page
def operations_csv_file():
    programme = _programme()
    return _file(operations_csv(operations(programme.id if programme else None)),
                 CSV_MIMETYPE, "operations.csv")


@route(bp, "/operations.json", permission=policy.can_visit)
@visitor_page
def operations_json_file():
    programme = _programme()
    return _file(operations_json(operations(programme.id if programme else None)),
                 "application/json", "operations.json")
