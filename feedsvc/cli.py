"""The ``feedsvc`` command: the same services the API calls, for operators and editors."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .articles import utcnow
from .config import ConfigError
from .db import database
from .db.migrate import upgrade
from .domain import DomainError, Role
from .jobs import jobs
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
    for command in COMMANDS:
        app.cli.add_command(command)


@contextmanager
def _store(error: type[click.ClickException] = click.ClickException) -> Iterator[Store]:
    """The store in one session: a domain error (unknown id, duplicate, bad value) rolls it
    back and ends the command as ``error``, one line, not a traceback."""
    with database().session() as session:
        try:
            yield Store(session)
        except DomainError as exc:
            raise error(str(exc)) from exc


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
@click.option(
    "--expires",
    default=None,
    metavar="PERIOD|DATE",
    help="When the token stops working: 30d, 12h, 2w from now, or a date (2026-12-31, "
    "valid through that day, UTC). Default: never.",
)
@with_appcontext
def tokens_create(role: str, languages: tuple[str, ...], name: str, expires: str | None) -> None:
    from .tokens import issue_token, parse_expiry

    now = utcnow()
    try:
        expires_at = parse_expiry(expires, now) if expires is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from exc
    with _store(click.UsageError) as store:
        token, secret = issue_token(
            store,
            name or f"{role} token",
            Role(role),
            languages,
            clock=lambda: now,
            expires_at=expires_at,
        )
    langs = f" languages={','.join(token.languages)}" if token.languages else ""
    until = f" expires={token.expires_at.isoformat()}" if token.expires_at else ""
    click.echo(
        f"created token id={token.id} role={token.role}{langs}{until}; it is shown only once:"
    )
    click.echo(secret)


@tokens_group.command("list", help="List tokens (never their secrets).")
@with_appcontext
def tokens_list() -> None:
    """id, prefix, role, languages, state (active, revoked, expired), name, expiry."""
    now = utcnow()
    with database().session() as session:
        for token in Store(session).tokens.all():
            state = "revoked" if token.revoked_at else "active" if token.live(now) else "expired"
            until = token.expires_at.isoformat() if token.expires_at else "-"
            click.echo(
                f"{token.id}\t{token.prefix}…\t{token.role}\t"
                f"{','.join(token.languages) or '-'}\t{state}\t{token.name}\texpires={until}"
            )


@tokens_group.command("revoke", help="Revoke a token by id.")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    with _store() as store:
        store.tokens.revoke(token_id, utcnow())
    click.echo(f"token {token_id} revoked")


@click.command("import", help="Import articles from a JSONL file (one article per line).")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@with_appcontext
def import_command(file: TextIO) -> None:
    from .bulk import import_articles

    extension = jobs()
    settings = current_app.extensions["feedsvc.settings"]
    report = import_articles(
        database(), file, settings.target_tags, extension.dispatch_from_command
    )
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
def export_command(output: TextIO, include_deleted: bool) -> None:
    from .bulk import export_articles

    count = export_articles(database(), output, include_deleted)
    click.echo(f"exported {count} articles", err=True)


@click.command("demo", help="Load the demo content (idempotent).")
@with_appcontext
def demo_command() -> None:
    from .demo import load_demo

    report = load_demo(database(), current_app.extensions["feedsvc.settings"].target_tags)
    jobs().dispatch_from_command(report.jobs)
    click.echo(
        f"demo content loaded: {report.sections} sections, {report.articles} articles, "
        f"{report.translations} human translations, {report.memory_entries} "
        f"translation memory entries"
    )


@click.command("serve", help="Serve the app with gunicorn (--debug: Werkzeug's dev server).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="the number of cores",
    help="Worker processes.",
)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option("--debug", is_flag=True, help="Werkzeug's server with the debugger, one process.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, debug: bool) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"serving {app.extensions['feedsvc.settings'].site_name} on http://{host}:{port}/")
    if debug:
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=True)
        return
    from .gunicorn_conf import gunicorn_command

    command, environment = gunicorn_command(host, port, workers, threads)
    sys.stdout.flush()
    # Replace this process: gunicorn must import prometheus_client after the
    # multiprocess directory is set, which this process did long ago.
    os.execvpe(command[0], command, environment)


@click.command("publish", help="Write every feed (page 1) and the OPML lists under DIR.")
@click.option(
    "--to",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The directory nginx or a CDN serves (deploy/nginx.conf).",
)
@with_appcontext
def publish_command(directory: Path) -> None:
    """Each URL as the app answers it, with .gz and .br siblings; files whose bytes did not
    change are left alone, files of removed sections and languages are deleted."""
    from .publish import publish_all

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = publish_all(app, directory.resolve())
    for url, status in report.failed:
        click.echo(f"{url}: the app answered {status}; not published", err=True)
    click.echo(f"published under {directory.resolve()}: {report.summary()}")
    if report.failed:
        sys.exit(1)


@click.command("worker", help="Run translation jobs (RQ on Redis when FEEDSVC_REDIS_URL is set).")
@click.option("--burst", is_flag=True, help="Stop when no job is left to run.")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between queue checks.")
@with_appcontext
def worker_command(burst: bool, poll: float) -> None:
    from .jobs import run_worker

    run_worker(current_app._get_current_object(), burst, poll)  # type: ignore[attr-defined]


@click.group("models", help="Argos Translate packages.")
def models_group() -> None:
    pass


@models_group.command("install", help="Install FROM TO from the Argos index, or FILE.argosmodel.")
@click.argument("what", nargs=-1, required=True)
@with_appcontext
def models_install(what: tuple[str, ...]) -> None:
    from .engine.packages import PackageError

    extension = jobs()
    try:
        if len(what) == 1:
            installed = extension.packages.install_file(Path(what[0]))
        elif len(what) == 2:
            source, target = (_language_tag(tag) for tag in what)
            installed = extension.packages.install_from_index(source, target)
        else:
            raise click.UsageError("give FROM TO (e.g. en zh-Hans) or one FILE.argosmodel")
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"installed {installed.label} ({installed.from_code} → {installed.to_code}) "
        f"in {installed.path}"
    )
    woken = extension.worker.wake_jobs_with_models()
    extension.dispatch_from_command(woken)
    if woken:
        click.echo(f"{len(woken)} waiting translation jobs queued again")


@models_group.command("list", help="List installed packages.")
@with_appcontext
def models_list() -> None:
    packages = jobs().packages.installed()
    if not packages:
        click.echo(f"no packages installed in {jobs().packages.dir}")
    for package in packages:
        click.echo(f"{package.from_code}\t{package.to_code}\t{package.version}\t{package.path}")


@models_group.command("remove", help="Remove the package for FROM TO.")
@click.argument("source")
@click.argument("target")
@with_appcontext
def models_remove(source: str, target: str) -> None:
    from .engine.packages import PackageError

    try:
        removed = jobs().packages.remove(_language_tag(source), _language_tag(target))
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {removed.label}")


def _language_tag(tag: str) -> str:
    from .config import canonical_language_tag

    try:
        return canonical_language_tag(tag)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group("glossary", help="Glossary terms per language pair.")
def glossary_group() -> None:
    pass


@glossary_group.command("add", help="Add SOURCE → TARGET (or --keep SOURCE as it is).")
@click.argument("source")
@click.argument("target", required=False)
@click.option("--lang", required=True, help="Target language, e.g. zh-Hans.")
@click.option("--keep", is_flag=True, help="Do not translate: keep the term as written.")
@with_appcontext
def glossary_add(source: str, target: str | None, lang: str, keep: bool) -> None:
    from .glossary import add_term

    if not keep and not target:
        raise click.UsageError("give TARGET, or --keep for a do-not-translate term")
    with _store() as store:
        term = add_term(
            store, current_app.extensions["feedsvc.settings"], lang, source, target or source, keep
        )
    click.echo(f"added term id={term.id}: {term.source_term} → {term.target_term}")


@glossary_group.command("list", help="List the terms of a language.")
@click.option("--lang", required=True)
@with_appcontext
def glossary_list(lang: str) -> None:
    with database().session() as session:
        for term in Store(session).glossary.terms("en", _language_tag(lang)):
            keep = " (do not translate)" if term.do_not_translate else ""
            click.echo(f"{term.id}\t{term.source_term}\t{term.target_term}{keep}")


@glossary_group.command("remove", help="Remove a term by id.")
@click.argument("term_id", type=int)
@with_appcontext
def glossary_remove(term_id: int) -> None:
    with _store() as store:
        store.glossary.delete(term_id, utcnow())
    click.echo(f"removed term {term_id}")


def main() -> None:
    """The console script: a configuration error is one line and exit status 2, not a traceback."""
    try:
        cli.main(prog_name="feedsvc")
    except ConfigError as exc:
        click.echo(f"feedsvc: configuration error: {exc}", err=True)
        sys.exit(2)


COMMANDS = (
    db_group,
    tokens_group,
    import_command,
    export_command,
    demo_command,
    serve_command,
    publish_command,
    worker_command,
    models_group,
    glossary_group,
)
for _command in COMMANDS:
    cli.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    main()
