"""Command-line entry points: `flask --app vouchers <command>`."""

import click
from flask import Flask

from workflows.lifecycle import ROLES, mermaid

from .extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(lifecycle_command)
    app.cli.add_command(create_user_command)


@click.command("demo")
def demo_command():
    """Load the demo programme (does nothing if a programme exists)."""
    from .demo import DEMO_PASSWORDS, load_demo

    summary = load_demo()
    db.session.commit()
    if not summary.created:
        click.echo("A programme already exists; demo not loaded.")
        return
    click.echo(f"Demo programme loaded with {summary.applications} applications.")
    click.echo("Demo logins (e-mail / password):")
    click.echo(f"  manager@demo.example / {DEMO_PASSWORDS['manager']}")
    click.echo(f"  evaluator1@demo.example .. evaluator6 / {DEMO_PASSWORDS['evaluator']}")
    click.echo(f"  applicant1@demo.example .. applicant40 / {DEMO_PASSWORDS['applicant']}")


@click.command("lifecycle")
def lifecycle_command():
    """Print the application lifecycle as a Mermaid state diagram."""
    click.echo(mermaid(), nl=False)


@click.command("create-user")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_user_command(role, email, name, password):
    """Create an evaluator, manager or applicant account."""
    from .services.accounts import create_user
    from .services.errors import DomainError

    try:
        user = create_user(email=email, name=name, role=role, password=password)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")
