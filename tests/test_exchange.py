"""PO and XLIFF 2.0 exchange with CAT tools: round trips, a translator's edits, the XLIFF
inline codes and schema, and files that must be refused."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from babel.messages.pofile import read_po, write_po
from lxml import etree

from feedsvc.exchange import (
    XLIFF_NAMESPACE,
    XLIFF_SCHEMA,
    ExchangeError,
    ImportedUnit,
    Unit,
    export_po,
    export_xliff,
    parse_po,
    parse_xliff,
    validate_xliff,
)
from feedsvc.segments import segment_html

NS = {"x": XLIFF_NAMESPACE}
X = f"{{{XLIFF_NAMESPACE}}}"
LINK = '<a href="https://x.example/report?a=1&amp;b=2" rel="noopener noreferrer">'
IMG = '<img src="https://i.example/p.jpg" alt="Chart &quot;A&quot;">'

UNITS = [
    Unit(
        article_id=12,
        key="title",
        source="Prices in Zürich rise by {1}",
        target="苏黎世物价上涨{1}",
        approved=True,
        placeholders={"1": "3.2%"},
        note="Article: Prices in Zürich",
    ),
    Unit(
        article_id=12,
        key="body.0.0",
        source='Read {1}the {2}full{/2} report{/1} by AT&T: 5 < 6 > 4 and "quotes" cost '
        "{3} francs. {4} Café crème.",
        target="阅读AT&T的{1}{2}完整{/2}报告{/1}：5 < 6 > 4，“引号”花费{3}法郎。{4} 奶油咖啡。",
        approved=False,
        placeholders={"1": LINK, "2": "<b>", "3": "56.39", "4": IMG},
        note="Article: Prices in Zürich / paragraph 1",
    ),
    Unit(
        article_id=12,
        key="body.0.1",
        source="Nothing translated yet — naïve {1}.",
        target=None,
        approved=False,
        placeholders={"1": "https://x.example/a?b=1&c=2"},
    ),
    Unit(
        article_id=40,
        key="summary",
        source="Tom's {1}bold{/1} move.",
        target="汤姆的{1}大胆{/1}举动。",
        approved=False,
        placeholders={"1": "<strong>"},
        note="Article: Another one\nsecond line of the note",
    ),
    Unit(
        article_id=40,
        key="body.3.2",
        source="Line{1}break and {2}.",
        target="换行{1}和{2}。",
        approved=True,
        placeholders={"1": "<br>", "2": "<code>x{y} &amp; z</code>"},
    ),
]


def expected(units: list[Unit]) -> list[tuple]:
    return [
        (u.article_id, u.key, u.source, u.target or "", u.approved and bool(u.target))
        for u in units
    ]


def got(entries: list[ImportedUnit]) -> list[tuple]:
    return [(e.article_id, e.key, e.source, e.target, e.approved) for e in entries]


def by_key(entries: list[ImportedUnit]) -> dict[tuple, ImportedUnit]:
    return {(e.article_id, e.key): e for e in entries}


# --- PO ----------------------------------------------------------------------------------


def test_po_round_trip() -> None:
    entries = parse_po(export_po(UNITS, "en", "zh-Hans"))
    assert got(entries) == expected(UNITS)
    assert all(re.fullmatch(r"line \d+", e.location) for e in entries)


def test_po_file_as_written() -> None:
    data = export_po(UNITS, "en", "zh-Hans")
    text = data.decode("utf-8")
    catalog = read_po(io.BytesIO(data))
    assert str(catalog.locale) == "zh_Hans"
    assert "Language: zh_Hans" in text
    assert catalog.project == "feedsvc"
    assert not catalog.fuzzy  # the header is not a template's
    messages = {m.context: m for m in catalog if m.id}
    assert list(messages) == [f"article/{u.article_id}/{u.key}" for u in UNITS]

    body = messages["article/12/body.0.0"]
    assert body.id == UNITS[1].source
    assert body.fuzzy  # machine translation, not approved
    assert '#, fuzzy\nmsgctxt "article/12/body.0.0"' in text
    assert body.auto_comments[0] == "Article: Prices in Zürich / paragraph 1"
    legend = " ".join(body.auto_comments[1:])
    assert f"{{1}} = {LINK}, {{/1}} = </a>" in legend
    assert "{2} = <b>, {/2} = </b>" in legend
    assert "{3} = 56.39" in legend
    assert f"{{4}} = {IMG}" in legend

    assert not messages["article/12/title"].fuzzy  # approved
    assert not messages["article/12/body.0.1"].fuzzy  # nothing to review
    assert text.count("#, fuzzy") == 2
    assert messages["article/12/body.0.1"].string == ""
    # A note's line breaks do not break the comment.
    assert "#. Article: Another one second line of the note" in text
    # No format-string flags guessed from "{1}" or "%".
    assert "python-" not in text


def test_po_translator_edits_two_entries() -> None:
    data = export_po(UNITS, "en", "zh_Hans")
    before = parse_po(data)
    catalog = read_po(io.BytesIO(data))
    for message in catalog:
        if message.context == "article/40/summary":
            message.string = "汤姆{1}勇敢{/1}的一步。"
        if message.context == "article/12/body.0.0":
            message.flags.discard("fuzzy")  # the translator approves it as is
    out = io.BytesIO()
    write_po(out, catalog)
    after = parse_po(out.getvalue())

    changed = [(b, a) for b, a in zip(before, after, strict=True) if got([b]) != got([a])]
    assert [(a.article_id, a.key) for _, a in changed] == [(12, "body.0.0"), (40, "summary")]
    body, summary = by_key(after)[(12, "body.0.0")], by_key(after)[(40, "summary")]
    assert body.approved and body.target == UNITS[1].target
    assert summary.target == "汤姆{1}勇敢{/1}的一步。" and not summary.approved  # still fuzzy


def test_po_fuzzy_and_obsolete_entries() -> None:
    data = b"""\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: de\\n"

#, fuzzy
msgctxt "article/7/title"
msgid "Hello"
msgstr "Hallo"

msgctxt "article/7/summary"
msgid "World"
msgstr "Welt"

msgctxt "article/x/body.0.0"
msgid "Untouched"
msgstr ""

msgid "No context"
msgstr "Kein Kontext"

#~ msgctxt "article/7/body.9.9"
#~ msgid "Old"
#~ msgstr "Alt"
"""
    entries = parse_po(data)
    assert got(entries) == [
        (7, "title", "Hello", "Hallo", False),
        (7, "summary", "World", "Welt", True),
        (None, "body.0.0", "Untouched", "", False),
        (None, None, "No context", "Kein Kontext", True),
    ]
    assert entries[0].location == "line 8"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\xff",
        'msgid "Caf\u00e9"\nmsgstr "\u00e9"\n'.encode("latin-1"),  # not UTF-8
        b"# only a comment\n",
        b"just some text\nmsgid\n",
        b'msgid "a"\n',  # no msgstr
        b'{"msgid": "a"}',
    ],
)
def test_po_unreadable_input(data: bytes) -> None:
    with pytest.raises(ExchangeError):
        parse_po(data)


def test_po_xliff_is_not_po() -> None:
    with pytest.raises(ExchangeError):
        parse_po(export_xliff(UNITS, "en", "de"))


def test_po_empty_catalog_is_fine() -> None:
    assert parse_po(export_po([], "en", "de")) == []


def test_duplicate_units_are_refused() -> None:
    twice = [UNITS[0], UNITS[0]]
    with pytest.raises(ValueError):
        export_po(twice, "en", "de")
    with pytest.raises(ValueError):
        export_xliff(twice, "en", "de")


# --- XLIFF: export and round trip ----------------------------------------------------------


def test_xliff_round_trip() -> None:
    data = export_xliff(UNITS, "en", "zh_Hans")
    entries = parse_xliff(data)
    assert got(entries) == expected(UNITS)
    assert entries[1].location == "unit body.0.0 in file article-12"


def test_xliff_export_is_schema_valid() -> None:
    assert validate_xliff(export_xliff(UNITS, "en", "zh-Hans")) == []
    assert validate_xliff(export_xliff(UNITS[:1], "en", "de")) == []


def test_xliff_document_structure() -> None:
    data = export_xliff(UNITS, "en", "zh_Hans")
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(data)
    assert root.tag == X + "xliff"
    assert (root.get("version"), root.get("srcLang"), root.get("trgLang")) == (
        "2.0",
        "en",
        "zh-Hans",
    )
    assert [f.get("id") for f in root.findall("x:file", NS)] == ["article-12", "article-40"]
    units = {u.get("id"): u for u in root.iterfind(".//x:unit", NS)}
    states = {k: u.find("x:segment", NS).get("state") for k, u in units.items()}
    assert states == {
        "title": "final",
        "body.0.0": "translated",
        "body.0.1": "initial",
        "summary": "translated",
        "body.3.2": "final",
    }
    assert units["body.0.1"].find("x:segment/x:target", NS) is None
    assert units["body.0.0"].findtext("x:notes/x:note", namespaces=NS) == (
        "Article: Prices in Zürich / paragraph 1"
    )
    assert units["body.0.1"].find("x:notes", NS) is None

    unit = units["body.0.0"]
    data_by_id = {d.get("id"): d.text for d in unit.iterfind("x:originalData/x:data", NS)}
    assert data_by_id["d1"] == LINK
    assert data_by_id["d2"] == "<b>"
    assert data_by_id["d3"] == "56.39"
    assert data_by_id["d4"] == IMG
    source = unit.find("x:segment/x:source", NS)
    link = source.find("x:pc", NS)
    bold = link.find("x:pc", NS)
    assert link.get("id") == "1" and link.text == "the " and bold.tail == " report"
    assert bold.get("id") == "2" and bold.text == "full"
    for pc in (link, bold):
        assert data_by_id[pc.get("dataRefEnd")] == _closing(data_by_id[pc.get("dataRefStart")])
    phs = {ph.get("id"): ph for ph in source.iterfind("x:ph", NS)}
    assert data_by_id[phs["3"].get("dataRef")] == "56.39"
    assert data_by_id[phs["4"].get("dataRef")] == IMG
    assert phs["4"].get("type") == "image" and link.get("type") == "link"
    assert "{" not in "".join(source.itertext())  # no placeholder syntax left in XLIFF
    # The target uses the same codes, by id.
    target = unit.find("x:segment/x:target", NS)
    assert [e.get("id") for e in target.iter(X + "pc", X + "ph")] == ["1", "2", "3", "4"]


def _closing(opening: str) -> str:
    return "</" + re.match(r"<(\w+)", opening).group(1) + ">"


def test_xliff_escaping_in_the_file() -> None:
    data = export_xliff(UNITS, "en", "zh_Hans")
    text = data.decode("utf-8")
    assert "by AT&amp;T: 5 &lt; 6 &gt; 4" in text
    assert "苏黎世物价上涨" in text and "Zürich" in text  # UTF-8, not character references


def test_xliff_translator_edits_two_entries() -> None:
    data = export_xliff(UNITS, "en", "zh_Hans")
    before = parse_xliff(data)
    root = etree.fromstring(data)
    title = root.find(".//x:file[@id='article-12']/x:unit[@id='title']/x:segment", NS)
    target = title.find("x:target", NS)
    ph = target.find("x:ph", NS)
    target.text = "苏黎世价格上涨了"  # a new wording, same placeholder
    assert ph.tail is None
    summary = root.find(".//x:file[@id='article-40']/x:unit[@id='summary']/x:segment", NS)
    summary.set("state", "final")  # approved as is
    edited = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    after = parse_xliff(edited)

    changed = [(b, a) for b, a in zip(before, after, strict=True) if got([b]) != got([a])]
    assert [(a.article_id, a.key) for _, a in changed] == [(12, "title"), (40, "summary")]
    assert by_key(after)[(12, "title")].target == "苏黎世价格上涨了{1}"
    assert by_key(after)[(12, "title")].approved
    assert by_key(after)[(40, "summary")].approved
    assert by_key(after)[(40, "summary")].target == UNITS[3].target


@pytest.mark.parametrize(
    "target",
    [
        "{2}b{/2}{1}a{/1}",  # reordered pairs
        "{1}a{2}b{/1}c{/2}",  # crossing pairs: <sc>/<ec>
        "{1}open only",  # a pair's closing dropped: a placeholder
        "closing only{/2}",  # an isolated <ec>
        "{/1}{1}",  # closing before opening
        "literal {braces} and { alone and {x} and }",
        "tab\there, CR\rLF\n, control\x0bchar, \ufffe",  # \x0b and U+FFFE travel as <cp>
        "   leading and trailing spaces   ",
    ],
)
def test_xliff_odd_targets_round_trip(target: str) -> None:
    unit = Unit(5, "body.0.0", "{1}a{/1} {2}b{/2}", target, False, {"1": "<i>", "2": "<b>"})
    data = export_xliff([unit], "en", "fr")
    assert validate_xliff(data) == []
    [entry] = parse_xliff(data)
    assert (entry.source, entry.target) == (unit.source, target)


def test_xliff_reads_what_other_tools_write() -> None:
    """Groups, several segments and ignorables, <mrk> and <sm>/<em>, <cp>, extension
    attributes: all read back into one entry per unit."""
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="{XLIFF_NAMESPACE}" xmlns:my="urn:example:tool" version="2.0"
       srcLang="en" trgLang="de" my:build="7">
  <file id="article-3">
    <group id="g1">
      <unit id="body.0.0" my:flag="x">
        <segment state="final">
          <source>One <mrk id="m1" type="term">term</mrk>.</source>
          <target>Ein <mrk id="m1" type="term">Begriff</mrk>.</target>
        </segment>
        <ignorable><source> </source></ignorable>
        <segment state="final">
          <source>Two<sm id="s1" type="comment" value="c"/> {{x}}<em startRef="s1"/></source>
          <target>Zwei<cp hex="0001"/> {{x}}</target>
        </segment>
      </unit>
      <unit id="body.0.1">
        <segment state="final"><source>A</source><target>B</target></segment>
        <segment state="translated"><source>C</source><target>D</target></segment>
      </unit>
    </group>
  </file>
  <file id="notes-and-more">
    <unit id="title"><segment state="reviewed"><source>S</source><target>T</target></segment>
    </unit>
  </file>
</xliff>""".encode()
    assert validate_xliff(data) == []
    assert got(parse_xliff(data)) == [
        (3, "body.0.0", "One term. Two {x}", "Ein Begriff. Zwei\x01 {x}", True),
        (3, "body.0.1", "AC", "BD", False),  # not every segment is final
        (None, "title", "S", "T", False),  # reviewed is not approved
    ]


def test_real_segments_survive_both_formats() -> None:
    html = (
        '<p>Read <a href="https://x.example/?a=1&amp;b=2">the <b>full</b> report</a> by '
        'AT&amp;T: 5 &lt; 6 and "quotes" cost 56.39 today. '
        '<img src="https://i.example/p.jpg" alt="P"> Café.</p><p>Use <code>x{y}</code> now.</p>'
    )
    segments = segment_html(html).segments
    units = [
        Unit(99, s.key, s.source, s.source.replace("Read", "阅读"), True, s.placeholders)
        for s in segments
    ]
    assert any("{/2}" in u.source for u in units)  # nested pair inside the link
    for entries in (
        parse_po(export_po(units, "en", "zh-Hans")),
        parse_xliff(export_xliff(units, "en", "zh-Hans")),
    ):
        assert got(entries) == expected(units)


# --- XLIFF: refused input ----------------------------------------------------------------

XLIFF_12 = b"""<?xml version="1.0" encoding="UTF-8"?>
<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">
  <file source-language="en" target-language="de" datatype="plaintext" original="a">
    <body>
      <trans-unit id="title"><source>Hello</source><target>Hallo</target></trans-unit>
    </body>
  </file>
</xliff>"""


def _valid() -> bytes:
    return export_xliff(UNITS[1:2], "en", "de")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x00\xffgarbage\x89", id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(XLIFF_12, id="xliff-1.2"),
        pytest.param(_valid().replace(b"</source>", b"</src>", 1), id="not-well-formed"),
        pytest.param(_valid()[:-20], id="truncated"),
        pytest.param(_valid().replace(b'version="2.0"', b'version="2.1"'), id="version-2.1"),
        pytest.param(_valid().replace(b"<notes>", b"<notes><bogus/>"), id="schema-invalid"),
        pytest.param(b"<html><body>Not XLIFF</body></html>", id="html"),
        pytest.param(export_po(UNITS, "en", "de"), id="po-file"),
        pytest.param(
            b'<!DOCTYPE xliff [<!ENTITY e "x">]>'
            + _valid().split(b"?>", 1)[1].replace(b"Read ", b"&e;"),
            id="doctype",
        ),
    ],
)
def test_xliff_unreadable_input(data: bytes) -> None:
    with pytest.raises(ExchangeError):
        parse_xliff(data)


def test_xliff_schema_errors_are_reported() -> None:
    data = _valid().replace(b'<pc id="1"', b'<pc id="1" colour="red"', 1)
    with pytest.raises(ExchangeError, match="colour"):
        parse_xliff(data)


# --- the schema itself ---------------------------------------------------------------------

MINIMAL = f"""<xliff xmlns="{XLIFF_NAMESPACE}" version="2.0" srcLang="en">
  <file id="f1">
    <unit id="u1">
      <segment><source>Hello <pc id="1">world</pc></source></segment>
    </unit>
  </file>
</xliff>"""


def test_schema_files_work_offline() -> None:
    assert XLIFF_SCHEMA.name == "xliff_core_2.0.xsd"
    assert (XLIFF_SCHEMA.parent / "xml.xsd").is_file()
    schema_doc = etree.parse(str(XLIFF_SCHEMA))
    imports = schema_doc.getroot().findall("{http://www.w3.org/2001/XMLSchema}import")
    assert [i.get("schemaLocation") for i in imports] == ["xml.xsd"]
    etree.XMLSchema(etree.parse(str(XLIFF_SCHEMA), etree.XMLParser(no_network=True)))
    assert validate_xliff(MINIMAL.encode()) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<unit id", "<unknownElement/><unit id"),  # unknown element in the core namespace
        ('<segment><source>Hello <pc id="1">world</pc></source></segment>', "<segment/>"),
        ('version="2.0" ', ""),  # missing version
        ('srcLang="en"', ""),  # missing srcLang
        ('<pc id="1">', '<pc id="1" foo="bar">'),  # attribute pc does not have
        ('<pc id="1">', '<pc id="1" canCopy="maybe">'),  # wrong attribute value
        ('<pc id="1">', "<pc>"),  # pc without id
        ('<unit id="u1">', "<unit>"),  # unit without id
        ("<segment>", '<segment state="done">'),
        ('<file id="f1">', '<file id="f 1">'),  # id is a name token
        ("<segment>", "<segment><notes><note>x</note></notes>"),  # notes in the wrong place
        ("</source>", "</source><target>a</target><target>b</target>"),  # two targets
        ("Hello ", '<ph id="2"><b/></ph>'),  # ph is empty
        ('<file id="f1">', '<file id="f1"><notes/>'),  # notes without a note
    ],
)
def test_schema_rejects_invalid_documents(old: str, new: str) -> None:
    assert old in MINIMAL
    assert validate_xliff(MINIMAL.replace(old, new, 1).encode()) != []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('version="2.0"', 'version="2.0" xmlns:my="urn:example" my:tool="x"'),
        ('<unit id="u1">', '<unit id="u1" xmlns:my="urn:example"><my:meta a="1"/>'),
        ('<pc id="1">', '<pc id="1" xmlns:my="urn:example" my:style="b" type="fmt" dir="ltr">'),
        ("<source>", '<source xml:lang="en" xml:space="preserve">'),
        ("<segment>", '<segment id="s1" state="reviewed" subState="my:x" canResegment="no">'),
        (
            '<unit id="u1">',
            '<unit id="u1"><notes><note category="c" priority="2" appliesTo="source">n</note>'
            '</notes><originalData><data id="d1">&lt;b&gt;<cp hex="0001"/></data>'
            "</originalData>",
        ),
        ("Hello ", '<sc id="5"/>He<ec startRef="5"/>llo <mrk id="m" type="term">x</mrk>'),
    ],
)
def test_schema_accepts_the_rest_of_the_core(old: str, new: str) -> None:
    assert validate_xliff(MINIMAL.replace(old, new, 1).encode()) == []


# --- revisions: what an import compares with the stored segment ----------------------------


VERSIONED = [replace(unit, revision=n) for n, unit in enumerate(UNITS[:4], start=3)] + UNITS[4:]


def test_po_carries_each_revision_and_keeps_the_context() -> None:
    data = export_po(VERSIONED, "en", "zh-Hans")
    text = data.decode("utf-8")
    assert '#. feedsvc-revision: 3\nmsgctxt "article/12/title"\n' in text
    catalog = read_po(io.BytesIO(data))
    contexts = [m.context for m in catalog if m.id]
    assert contexts == [f"article/{u.article_id}/{u.key}" for u in UNITS], "identity unchanged"
    entries = parse_po(data)
    assert [e.revision for e in entries] == [3, 4, 5, 6, None]
    assert got(entries) == expected(UNITS)
    assert [e.line for e in entries] == [int(e.location.split()[1]) for e in entries]


def test_po_revision_survives_an_editor_rewriting_the_file() -> None:
    """A PO editor reads and writes the whole catalog (as Poedit or Lokalize do): the
    extracted comment is the source side's and comes back untouched."""
    catalog = read_po(io.BytesIO(export_po(VERSIONED, "en", "zh-Hans")))
    for message in catalog:
        if message.context == "article/40/summary":
            message.string = "汤姆{1}勇敢{/1}的一步。"
            message.flags.discard("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog, width=40)  # other line wrapping, as another tool might
    entries = by_key(parse_po(out.getvalue()))
    assert entries[(40, "summary")].revision == 6 and entries[(40, "summary")].approved
    assert entries[(12, "title")].revision == 3


def test_po_without_revision_reads_as_none() -> None:
    text = export_po(VERSIONED, "en", "zh-Hans").decode("utf-8")
    old = re.sub(r"#\. feedsvc-revision: \d+\n", "", text)
    assert "#. feedsvc-revision" not in old
    assert [e.revision for e in parse_po(old.encode())] == [None] * len(UNITS)
    odd = text.replace("feedsvc-revision: 3", "feedsvc-revision: three")
    assert parse_po(odd.encode())[0].revision is None


def test_xliff_carries_each_revision_in_a_note() -> None:
    data = export_xliff(VERSIONED, "en", "zh-Hans")
    assert validate_xliff(data) == []
    root = etree.fromstring(data)
    notes = root.findall(".//x:unit[@id='body.0.1']/x:notes/x:note", NS)
    assert [(n.get("category"), n.text) for n in notes] == [("feedsvc-revision", "5")]
    title_notes = root.findall(".//x:unit[@id='title']/x:notes/x:note", NS)
    assert [n.get("category") for n in title_notes] == [None, "feedsvc-revision"]
    entries = parse_xliff(data)
    assert [e.revision for e in entries] == [3, 4, 5, 6, None]
    assert got(entries) == expected(UNITS)
    assert entries[0].file_id == "article-12" and entries[0].line is None
    assert root.find(".//x:unit[@id='body.3.2']/x:notes", NS) is None


def test_xliff_without_revision_note_reads_as_none() -> None:
    root = etree.fromstring(export_xliff(VERSIONED, "en", "zh-Hans"))
    for note in root.iterfind(".//x:note[@category='feedsvc-revision']", NS):
        note.getparent().remove(note)
    for notes in root.iterfind(".//x:notes", NS):
        if not len(notes):
            notes.getparent().remove(notes)
    entries = parse_xliff(etree.tostring(root))
    assert [e.revision for e in entries] == [None] * len(UNITS)
