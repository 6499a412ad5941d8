"""The ``feedsvc`` command: the same services the API calls, for operators and editors."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .config import ConfigError
from .db import database
from .db.migrate import upgrade
from .domain import DomainError, Role
from .store import Store


def _create_app() -> Flask:
    from . import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    help="feedsvc: multilingual news syndication service.",
)


def register_commands(app: Flask) -> None:
    """Make the commands reachable as ``flask --app feedsvc`` too."""
    for command in (
        db_group,
        tokens_group,
        import_command,
        export_command,
        demo_command,
        serve_command,
    ):
        app.cli.add_command(command)


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Create or migrate the schema to the newest revision.")
@with_appcontext
def db_upgrade() -> None:
    upgrade(database().engine)
    click.echo("database schema is up to date")


@click.group("tokens", help="API tokens.")
def tokens_group() -> None:
    pass


@tokens_group.command("create", help="Create a token; prints it as the last line.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--lang",
    "languages",
    multiple=True,
    help="A language a translator token may work on (repeatable).",
)
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def tokens_create(role: str, languages: tuple[str, ...], name: str) -> None:
    from .tokens import issue_token

    with database().session() as session:
        try:
            token, secret = issue_token(
                Store(session), name or f"{role} token", Role(role), languages
            )
        except DomainError as exc:
            raise click.UsageError(str(exc)) from exc
    langs = f" languages={','.join(token.languages)}" if token.languages else ""
    click.echo(f"created token id={token.id} role={token.role}{langs}; it is shown only once:")
    click.echo(secret)


@tokens_group.command("list", help="List tokens (never their secrets).")
@with_appcontext
def tokens_list() -> None:
    with database().session() as session:
        for token in Store(session).tokens():
            state = "revoked" if token.revoked_at else "active"
            click.echo(
                f"{token.id}\t{token.prefix}…\t{token.role}\t"
                f"{','.join(token.languages) or '-'}\t{state}\t{token.name}"
            )


@tokens_group.command("revoke", help="Revoke a token by id.")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    from .articles import utcnow

    with database().session() as session:
        try:
            Store(session).revoke_token(token_id, utcnow())
        except DomainError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"token {token_id} revoked")


@click.command("import", help="Import articles from a JSONL file (one article per line).")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@with_appcontext
def import_command(file: click.utils.LazyFile) -> None:
    from .bulk import import_articles

    report = import_articles(database(), file)
    for number, reason in report.rejected:
        click.echo(f"line {number}: rejected: {reason}", err=True)
    click.echo(
        f"created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {len(report.rejected)}"
    )
    if report.rejected:
        sys.exit(1)


@click.command("export", help="Write every article as JSONL (re-importable).")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
@click.option("--include-deleted", is_flag=True, help="Also write tombstones.")
@with_appcontext
def export_command(output: click.utils.LazyFile, include_deleted: bool) -> None:
    from .bulk import export_articles

    count = export_articles(database(), output, include_deleted)  # type: ignore[arg-type]
    click.echo(f"exported {count} articles", err=True)


@click.command("demo", help="Load the demo content (idempotent).")
@with_appcontext
def demo_command() -> None:
    from .demo import load_demo

    report = load_demo(database())
    click.echo(
        f"demo content loaded: {report.sections} sections, {report.articles} articles, "
        f"{report.translations} human translations"
    )


@click.command("serve", help="Serve the app (for production use: gunicorn wsgi:app).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def serve_command(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"serving {app.extensions['feedsvc.settings'].site_name} on http://{host}:{port}/")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def main() -> None:
    try:
        cli.main(prog_name="feedsvc")
    except ConfigError as exc:
        click.echo(f"feedsvc: configuration error: {exc}", err=True)
        sys.exit(2)


for _command in (
    db_group,
    tokens_group,
    import_command,
    export_command,
    demo_command,
    serve_command,
):
    cli.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
