"""Authorization-matrix cases of issue 10 (messages on an application and internal notes); see
tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py the URL arguments
this part's routes need (``users`` and ``args`` are the world's so far): the world's
application gets a message from its applicant with a file (``message_file_id``: its
owner and the managers may download it, nobody else) and an internal note with a file
(``note_file_id``: managers only).
"""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage

from tests.helpers import PDF
from tests.matrix_cases import Post, case, count, url
from vouchers.extensions import db
from vouchers.models import Application, ApplicationMessage
from vouchers.services import messages


def _pdf(name: str) -> FileStorage:
    return FileStorage(io.BytesIO(PDF), name, content_type="application/pdf")


def world_args(make, users: dict, args: dict) -> dict:
    application = db.session.get(Application, args["application_id"])
    message = messages.post_message(application, users["applicant"],
                                    "Here is the updated quote.", [_pdf("quote-v2.pdf")])
    note = messages.post_internal_note(application, users["manager"],
                                       "The provider confirmed the price by phone.",
                                       [_pdf("call-notes.pdf")])
    db.session.commit()
    return {"message_file_id": message.attachments[0].id,
            "note_file_id": note.attachments[0].id}


def _posted(application: Application, body: str, internal: bool = False) -> bool:
    return count(ApplicationMessage, ApplicationMessage.application_id == application.id,
                 ApplicationMessage.body == body,
                 ApplicationMessage.internal.is_(internal)) == 1


@case("applicant.post_message")
def _(make):
    a = make.application("submitted")
    return Post("applicant", a.applicant, url("applicant.post_message", application_id=a.id),
                data={"message-body": "When will we hear?",
                      "message-files": (io.BytesIO(PDF), "letter.pdf")},
                done=lambda: _posted(a, "When will we hear?"))


@case("manager.post_message")
def _(make):
    a = make.application("submitted")
    return Post("manager", make.manager(),
                url("manager.post_message", application_id=a.id),
                data={"message-body": "Please send the signed quote."},
                done=lambda: _posted(a, "Please send the signed quote."))


@case("manager.post_internal_note")
def _(make):
    a = make.application("submitted")
    return Post("manager", make.manager(),
                url("manager.post_internal_note", application_id=a.id),
                data={"note-body": "Checked the provider's register entry."},
                done=lambda: _posted(a, "Checked the provider's register entry.",
                                     internal=True))
