import io
from tests.helpers import PDF, login, logout
from tests.test_messages import _post, _applicant_url, _manager_url, case  # noqa
from vouchers.extensions import db
from vouchers.models import OutboxMessage
from sqlalchemy import select

def test_dump(client, case):
    _post(client, case.applicant, _applicant_url(case.application), "Question <b>one</b>\nsecond line", files=[("plan.pdf", PDF)])
    _post(client, case.managers[0], _manager_url(case.application), "Answer one")
    _post(client, case.managers[0], _manager_url(case.application, "notes"), "Note one", prefix="note", files=[("n.pdf", PDF)])
    r = _post(client, case.managers[0], _manager_url(case.application, "notes"), "", prefix="note")
    page = r.get_data(as_text=True)
    open("/tmp/x/manager_refused.html", "w").write(page)
    logout(client); login(client, case.applicant)
    open("/tmp/x/applicant.html", "w").write(client.get(f"/apply/applications/{case.application.id}").get_data(as_text=True))
    for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("message%"))):
        open(f"/tmp/x/mail_{m.id}.txt", "w").write(m.subject + "\n\n" + m.body_text)
        open(f"/tmp/x/mail_{m.id}.html", "w").write(m.body_html)
