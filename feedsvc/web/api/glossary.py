"""Glossaries: the terms of each language pair the engine and QA hold translations to;
any token reads (a translator's in its languages), admins edit, as on the review screens."""

from __future__ import annotations

from flask import Response

from ...articles import utcnow
from ...config import SOURCE_LANGUAGE, Language
from ...domain import FieldError, GlossaryTerm, Invalid, Role
from ...glossary import add_term, update_term
from ...schemas import GlossaryIn, GlossaryList, GlossaryOut
from ..openapi import Reply, operation
from ..problems import ApiError
from ..scope import current_settings, current_store
from .common import DELETED, TERM_ID, body, bp, commit, requires, respond, target_language


def term_of(language: Language, term_id: int) -> GlossaryTerm:
    """The term, if it is in ``language``'s glossary (404 otherwise)."""
    term = current_store().glossary.get(term_id)
    if term.target_lang != language.tag:
        raise ApiError(404, f"No term {term_id} in the {language.tag} glossary.")
    return term


def term_body() -> GlossaryIn:
    """The request's term: a target term unless it is a do-not-translate entry."""
    doc = body(GlossaryIn)
    if not doc.do_not_translate and not doc.target_term:
        raise Invalid([FieldError("/target_term", "is required unless do_not_translate")])
    return doc


@bp.get("/glossary/<lang_tag>")
@requires(*Role)
@operation(Reply(200, "OK", GlossaryList), errors=[404])
def list_glossary(lang_tag: str) -> Response:
    """Glossary of a language pair (en → lang_tag)."""
    language = target_language(lang_tag)
    terms = current_store().glossary.terms(SOURCE_LANGUAGE, language.tag)
    return respond(GlossaryList(items=[GlossaryOut(term) for term in terms]))


@bp.post("/glossary/<lang_tag>")
@requires(Role.ADMIN)
@operation(Reply(201, "Created", GlossaryOut), errors=[404, 409], body=GlossaryIn)
def create_glossary_term(lang_tag: str) -> Response:
    """Add a term (or a do-not-translate entry)."""
    language = target_language(lang_tag)
    doc = term_body()
    term = add_term(
        current_store(),
        current_settings(),
        language.tag,
        doc.source_term,
        doc.target_term or doc.source_term,
        doc.do_not_translate,
    )
    commit()
    return respond(GlossaryOut(term), 201)


@bp.put(f"/glossary/<lang_tag>/{TERM_ID}")
@requires(Role.ADMIN)
@operation(Reply(200, "OK", GlossaryOut), errors=[404, 409], body=GlossaryIn)
def replace_glossary_term(lang_tag: str, term_id: int) -> Response:
    """Replace a term."""
    language = target_language(lang_tag)
    doc = term_body()
    term_of(language, term_id)
    term = update_term(
        current_store(),
        term_id,
        doc.source_term,
        doc.target_term or doc.source_term,
        doc.do_not_translate,
    )
    commit()
    return respond(GlossaryOut(term))


@bp.delete(f"/glossary/<lang_tag>/{TERM_ID}")
@requires(Role.ADMIN)
@operation(DELETED, errors=[404])
def delete_glossary_term(lang_tag: str, term_id: int) -> Response:
    """Delete a term."""
    term_of(target_language(lang_tag), term_id)
    current_store().glossary.delete(term_id, utcnow())
    commit()
    return Response(status=204)
