"""Downloads of attachments, for exactly the people who may see their application."""

from flask import Blueprint, abort, current_app, send_file

from .. import policy
from ..boundary import by_id, route
from ..models import Attachment, MessageAttachment
from ..services.attachments import path_of

bp = Blueprint("files", __name__)


@route(bp, "/<int:attachment_id>", permission=policy.can_download,
       load={"attachment": by_id(Attachment)})
def download(attachment: Attachment):
    """The file, to the owner, managers and evaluators assigned without a conflict (those
    only the application's own files, see policy.can_download).

    Everyone else, anonymous visitors included, gets 404: neither the file nor the fact
    that it exists leaks. The path comes from the server's random stored name, never from
    the request.
    """
    return _send(attachment)


def _send(attachment: Attachment | MessageAttachment):
    path = path_of(attachment)
    if not path.is_file():
        current_app.logger.error("%s %s: file %s is missing", type(attachment).__name__,
                                 attachment.id, path.name)
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.original_name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Private files: no shared cache may keep a copy.
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Files of an application's messages (vouchers/services/messages.py), served the same way:
# a thread's file to the applicant and the managers, an internal note's to managers only;
# evaluators and other companies get 404.


@route(bp, "/messages/<int:message_file_id>", permission=policy.can_download_message_file,
       load={"attachment": by_id(MessageAttachment, name="message_file")})
def message_file(attachment: MessageAttachment):
    return _send(attachment)


@route(bp, "/notes/<int:note_file_id>", permission=policy.can_download_note_file,
       load={"attachment": by_id(MessageAttachment, name="note_file")})
def note_file(attachment: MessageAttachment):
    return _send(attachment)
