"""The demo SMEs' de minimis aid received elsewhere: none, one or two grants each, some
granted more than three years ago (shown as no longer counting)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ..models import AidDeclaration, User

# Bodies that grant de minimis aid to SMEs in each partner country.
GRANTING_BODIES = {
    "ES": ["ACCIÓ (Generalitat de Catalunya)", "CDTI – Centro para el Desarrollo Tecnológico"],
    "NL": ["Rijksdienst voor Ondernemend Nederland", "BOM Brabant Ventures"],
    "DK": ["Innovationsfonden", "Danmarks Erhvervsfremmebestyrelse"],
    "DE": ["L-Bank Baden-Württemberg", "NRW.BANK"],
    "UK": ["Innovate UK", "Kent County Council Business Support"],
    "FR": ["Bpifrance", "Région Hauts-de-France"],
    "BE": ["SPW Économie, Emploi, Recherche", "Wallonie Entreprendre"],
    "IE": ["Enterprise Ireland", "Local Enterprise Office Cork"],
}
AMOUNTS = (6000, 12500, 18000, 25000, 40000, 60000)


def declarations(rng, country: str, today: date) -> list[AidDeclaration]:
    """0 to 2 grants, dated up to five years back: about a third no longer count."""
    bodies = GRANTING_BODIES.get(country, ["National innovation agency"])
    return [AidDeclaration(granting_body=rng.choice(bodies),
                           granted_on=today - timedelta(days=rng.randint(60, 1800)),
                           amount=Decimal(rng.choice(AMOUNTS)))
            for _ in range(rng.choice((0, 0, 1, 1, 2)))]


def date_declarations(applicants: list[User]) -> None:
    """Declared by the company's applicant with its profile (once the accounts are dated),
    or a week after the grant for aid granted since."""
    for user in applicants:
        for n, declaration in enumerate(user.organisation.aid_declarations, 1):
            declaration.declared_by_id = user.id
            week_after = datetime.combine(declaration.granted_on + timedelta(days=7),
                                          time(9, 30), tzinfo=UTC)
            declaration.declared_at = max(user.created_at + timedelta(minutes=5 * n),
                                          week_after)
