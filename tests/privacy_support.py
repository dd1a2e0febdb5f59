"""A company with something of everything personal, for the privacy tests: its own names,
texts and file contents carry ``tag``, so a test can look for them anywhere."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage

from tests.factories import PATHS
from tests.helpers import PDF
from vouchers.extensions import db
from vouchers.services import attachments, messages


def file_content(tag: str) -> bytes:
    return PDF + f"%content-of-{tag}\n".encode()


def populated_company(make, tag: str, *, cvt, manager, state: str = "paid"):
    """(applicant, application) of a company named after ``tag``, driven to ``state``."""
    org = make.organisation()
    org.legal_name = f"Firm {tag} GmbH"
    org.iban, org.account_holder = "NL91ABNA0417164300", f"Holder {tag}"
    db.session.commit()
    owner = make.user("applicant", organisation=org, email=f"{tag}@firm-{tag}.example")
    owner.name = f"Person {tag}"
    db.session.commit()
    application = make.draft(cvt, owner)
    application.title = f"Project {tag}"
    application.summary = f"Summary {tag} with secrets"
    application.cost_lines[0].description = f"Consultant {tag}"
    db.session.commit()
    upload = FileStorage(io.BytesIO(file_content(tag)), f"quote-{tag}.pdf",
                         content_type="application/pdf")
    attachments.add_attachment(application, owner, upload, "application")
    db.session.commit()
    make.step(application, "submit", applicant=owner, manager=manager)
    messages.post_message(application, owner, f"Question {tag}?")
    messages.post_message(application, manager, f"Answer to {tag}.")
    db.session.commit()
    for step in PATHS[state][1:]:
        make.step(application, step, applicant=owner, manager=manager)
    assert application.state == state
    return owner, application
