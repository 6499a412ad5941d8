"""Sections: the tree articles are filed in, readable by anyone, edited by editors."""

from __future__ import annotations

from flask import Response, url_for

from ...articles import Editor
from ...domain import Section
from ...schemas import SectionIn, SectionList, SectionOut, SectionPatch
from ..openapi import Reply, operation
from ..scope import current_settings, current_store
from .common import EDITORS, body, bp, commit, requires, respond


def editor() -> Editor:
    """The editing service for the request: sections and articles."""
    return Editor(current_store(), current_settings().target_tags)


def section_out(section: Section) -> SectionOut:
    """The section as the API shows it."""
    return SectionOut(
        path=section.path,
        parent=section.parent_path,
        names=section.names,
        created_at=section.created_at,
        updated_at=section.updated_at,
    )


@bp.get("/sections")
@operation(Reply(200, "OK", SectionList))
def list_sections() -> Response:
    """List sections."""
    return respond(SectionList(items=[section_out(s) for s in current_store().sections.all()]))


@bp.post("/sections")
@requires(*EDITORS)
@operation(Reply(201, "Created", SectionOut), errors=[409], body=SectionIn)
def create_section() -> Response:
    """Create a section."""
    section = editor().create_section(body(SectionIn))
    commit()
    location = url_for("api.get_section", section_path=section.path)
    return respond(section_out(section), 201, {"Location": location})


@bp.get("/sections/<path:section_path>")
@operation(Reply(200, "OK", SectionOut), errors=[404])
def get_section(section_path: str) -> Response:
    """Get a section."""
    return respond(section_out(current_store().sections.get(section_path)))


@bp.patch("/sections/<path:section_path>")
@requires(*EDITORS)
@operation(Reply(200, "OK", SectionOut), errors=[404, 409], body=SectionPatch)
def update_section(section_path: str) -> Response:
    """Rename and/or move a section."""
    section = editor().update_section(section_path, body(SectionPatch))
    commit()
    return respond(section_out(section))
