"""The service provider catalogue: list, add, edit, deactivate and reactivate."""

import pytest
from sqlalchemy import func, select

from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import ServiceProvider
from vouchers.services.applications import active_providers


def page(response) -> str:
    return response.get_data(as_text=True)


def row_of(html: str, name: str) -> str:
    return next(row for row in html.split("<tr>") if name in row)


def provider_count() -> int:
    return db.session.scalar(select(func.count(ServiceProvider.id)))


FORM = {"name": "Rhein Biotest GmbH", "country": "de", "region": "Baden-Wuerttemberg",
        "services": "Bench testing\nISO 10993 biocompatibility",
        "website": "https://www.rheinbiotest.example", "email": "vouchers@rheinbiotest.example"}


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


def test_the_catalogue_lists_providers_active_first_with_their_use(client, make, manager):
    application = make.application("submitted")  # names a provider
    used = application.provider
    idle = make.provider()
    idle.active = False
    db.session.commit()

    html = page(client.get("/manage/providers"))

    assert html.index(used.name) < html.index(idle.name)
    used_row, idle_row = row_of(html, used.name), row_of(html, idle.name)
    assert '<td class="num">1</td>' in used_row
    assert "Active" in used_row and "Deactivate" in used_row
    assert "Deactivated" in idle_row and "Reactivate" in idle_row


def test_a_manager_adds_a_provider(client, manager):
    response = client.post("/manage/providers/new", data=FORM)

    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/providers"
    provider = db.session.scalar(select(ServiceProvider))
    assert (provider.name, provider.country, provider.active) == ("Rhein Biotest GmbH", "DE",
                                                                  True)
    html = page(client.get("/manage/providers"))
    assert "Rhein Biotest GmbH added to the catalogue." in html
    assert '<a href="https://www.rheinbiotest.example" rel="noopener noreferrer">' in html
    assert provider in active_providers()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Give the provider's name."),
    ("country", "Germany", "Two letters, such as DE or NL."),
    ("website", "javascript:alert(1)", "Start with https://"),
    ("email", "nobody", "Not an e-mail address."),
])
def test_bad_input_is_shown_next_to_its_field(client, manager, field, value, message):
    response = client.post("/manage/providers/new", data={**FORM, field: value})

    assert response.status_code == 400
    errors = page(response).split(f'id="{field}-errors"')[1].split("</ul>")[0]
    assert message in errors
    assert provider_count() == 0


def test_a_provider_already_in_the_catalogue_is_refused(client, manager):
    client.post("/manage/providers/new", data=FORM)
    response = client.post("/manage/providers/new", data={**FORM, "name": "rhein biotest gmbh"})
    assert response.status_code == 422
    assert "Rhein Biotest GmbH (DE) is already in the catalogue." in page(response)
    assert provider_count() == 1


def test_a_manager_edits_a_provider(client, make, manager):
    provider = make.provider()
    form = page(client.get(f"/manage/providers/{provider.id}/edit"))
    assert f'value="{provider.name}"' in form

    response = client.post(f"/manage/providers/{provider.id}/edit",
                           data={**FORM, "name": provider.name, "services": "Market studies"})

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ServiceProvider, provider.id).services == "Market studies"


def test_deactivating_keeps_the_provider_on_applications_but_out_of_the_choices(
        client, make, manager):
    application = make.application("submitted")
    provider = application.provider

    response = client.post(f"/manage/providers/{provider.id}/deactivate")

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ServiceProvider, provider.id).active is False
    assert provider not in active_providers()
    assert application.provider_id == provider.id
    assert "applicants can no longer choose it" in page(client.get("/manage/providers"))
    detail = page(client.get(f"/manage/providers/{provider.id}/edit"))
    assert "Applicants cannot choose this provider." in detail

    response = client.post(f"/manage/providers/{provider.id}/reactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ServiceProvider, provider.id).active is True
    assert "is back in applicants&#39; choices." in page(client.get("/manage/providers"))


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("name", "Rhein\u200b Biotest", "The provider&#39;s name contains an invisible or "
                                    "direction-changing character (a zero-width space, U+200B)"),
    ("region", "Bavaria \u202e", "The provider&#39;s region contains an invisible"),
])
def test_invisible_characters_in_a_provider_are_refused(client, manager, field, typed, message):
    response = client.post("/manage/providers/new", data={**FORM, field: typed})

    assert response.status_code == 422
    assert message in page(response)
    assert provider_count() == 0


def test_an_unknown_provider_is_404(client, manager):
    assert client.get("/manage/providers/999999/edit").status_code == 404
    assert client.post("/manage/providers/999999/deactivate").status_code == 404


@pytest.mark.parametrize("role", ["applicant", "evaluator"])
def test_other_roles_do_not_reach_the_catalogue(client, make, role):
    provider = make.provider()
    login(client, make.applicant() if role == "applicant" else make.evaluator())

    assert client.get("/manage/providers").status_code == 404
    assert client.get("/manage/providers/new").status_code == 404
    assert client.post("/manage/providers/new", data=FORM).status_code == 404
    assert client.post(f"/manage/providers/{provider.id}/edit", data=FORM).status_code == 404
    assert client.post(f"/manage/providers/{provider.id}/deactivate").status_code == 404
    db.session.expire_all()
    assert provider_count() == 1 and db.session.get(ServiceProvider, provider.id).active


def test_posts_without_a_csrf_token_are_refused(app, client, make, manager, monkeypatch):
    provider = make.provider()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)

    assert client.post("/manage/providers/new", data=FORM).status_code == 400
    assert client.post(f"/manage/providers/{provider.id}/deactivate").status_code == 400
    db.session.expire_all()
    assert provider_count() == 1 and db.session.get(ServiceProvider, provider.id).active
