"""Translation exchange with CAT tools: gettext PO and XLIFF 2.0 files, bytes in and out.

Translators export machine translations, work on them in Poedit, OmegaT, memoQ or Trados,
and import the file back. This module only converts: it knows nothing of Flask, the
database or who may import what. :mod:`.po` and :mod:`.xliff` hold one format each,
:mod:`.units` what both carry.

Decisions, so callers know what to expect:

- **Identity.** A PO message is ``msgctxt "article/{id}/{key}"``; an XLIFF unit is
  ``<unit id="{key}">`` inside ``<file id="article-{id}">``. On the way back an id that does
  not parse gives ``article_id``/``key`` ``None``; the caller decides what that means.
- **Revision.** A unit's ``revision`` (the segment's stored version when exported) travels
  with it so an import can tell whether the segment changed since. PO: an extracted
  comment ``#. feedsvc-revision: 7`` (the msgctxt stays the stable identity, so tools such
  as Weblate keep each unit's history across exports; extracted comments belong to the
  source side, which Poedit, Lokalize, translate-toolkit/Weblate and skeleton-based tools
  write back untouched). XLIFF: a unit-level ``<note category="feedsvc-revision">7</note>``
  (core schema; tools keep notes). Entries without it (older exports, other tools) read
  back with ``revision`` ``None``.
- **Approval.** PO: a non-empty ``msgstr`` without the ``fuzzy`` flag. XLIFF: every segment of
  the unit in state ``final`` and a non-empty target (``reviewed`` is not approval). Export
  writes unapproved non-empty targets as fuzzy / ``translated``, approved ones as
  not fuzzy / ``final``, and missing or empty targets as empty ``msgstr`` / ``initial``.
- **Placeholders.** PO keeps our ``{1}…{/1}`` / ``{2}`` syntax in the text and lists what each
  stands for in an extracted comment. XLIFF turns them into inline codes: a pair becomes
  ``<pc id="1" dataRefStart="d1" dataRefEnd="d1-end">…</pc>``, a standalone one
  ``<ph id="2" dataRef="d2"/>``, with the original markup (the closing tag synthesized as
  ``</name>``) in the unit's ``<originalData>``. Pairs in a target that cross each other
  become ``<sc>``/``<ec>``, a closing token without its opening an isolated ``<ec>``;
  all of these read back to exactly the tokens they came from. Characters XML cannot carry
  travel as ``<cp hex="…"/>``.
- **XLIFF details.** One ``<file>`` per article (units of an article together, in the order
  given), ``canResegment="no"`` so tools keep one segment per unit, the note as a
  unit-level ``<notes><note>``. Reading accepts units inside ``<group>``, several segments and
  ignorables per unit (concatenated), ``<mrk>`` (its text kept), ``<sm>``/``<em>`` (dropped).
  Only ``version="2.0"`` in the 2.0 namespace is accepted; documents with a DOCTYPE are
  refused (no entity expansion from untrusted files).
- **PO details.** Written and read with Babel. Input must be UTF-8 (a BOM is allowed);
  any line Babel considers invalid rejects the file. Obsolete (``#~``) messages are ignored.
  Duplicate contexts in an imported file are merged by Babel (the first ``msgstr`` wins).
"""

from __future__ import annotations

from .po import export_po, parse_po
from .units import ExchangeError, ImportedUnit, Unit
from .xliff import XLIFF_NAMESPACE, XLIFF_SCHEMA, export_xliff, parse_xliff, validate_xliff

__all__ = [
    "XLIFF_NAMESPACE",
    "XLIFF_SCHEMA",
    "ExchangeError",
    "ImportedUnit",
    "Unit",
    "export_po",
    "export_xliff",
    "parse_po",
    "parse_xliff",
    "validate_xliff",
]
