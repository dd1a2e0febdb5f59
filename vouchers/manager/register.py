"""The de minimis register as a CSV download, for one call or a whole programme.

For the national or EU central register (Regulation (EU) 2023/2831, Art. 6); the same
rows are the workbook's De minimis sheet. Managers only (policy.can_export_register);
linked from the workbook's form on a call's dashboard.
"""

from __future__ import annotations

import io

from flask import send_file

from exports.de_minimis_csv import MIMETYPE

from .. import policy
from ..boundary import by_id, route
from ..models import Call, Programme
from ..services.register_export import RegisterFile, call_register, programme_register
from .blueprint import bp


@route(bp, "/calls/<int:call_id>/de-minimis-register.csv",
       permission=policy.can_export_register, load={"call": by_id(Call)})
def call_register_csv(call: Call):
    return _send(call_register(call))


@route(bp, "/programmes/<int:programme_id>/de-minimis-register.csv",
       permission=policy.can_export_register, load={"programme": by_id(Programme)})
def programme_register_csv(programme: Programme):
    return _send(programme_register(programme))


def _send(register: RegisterFile):
    response = send_file(io.BytesIO(register.data), mimetype=MIMETYPE, as_attachment=True,
                         download_name=register.filename)
    # Names and VAT numbers of undertakings: not for a shared cache or the browser's.
    response.cache_control.no_cache = None
    response.cache_control.no_store = True
    return response
