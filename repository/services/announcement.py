"""The printable announcement sheet ("spikblad") of a doctoral thesis, as PDF, from the read model.

A pure function of the read model, like the exporters: the sheet is nailed up (or posted) before
the defence and names the thesis, its author, the defence, the opponent and the supervisors.
ReportLab writes the PDF: it is pure Python wheels, maintained for decades, and needs no browser
or system library, unlike HTML-to-PDF converters.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from exports.readmodel import Publication

ABSTRACT_LIMIT = 1800  # characters: the sheet is one page


def _names(pub: Publication, role: str) -> str:
    people = pub.contributors_in(role)
    parts = []
    for c in people:
        affiliation = f", {c.affiliations[0].name}" if c.affiliations else ""
        parts.append(f"{c.display_name()}{affiliation}")
    return "; ".join(parts)


def render(pub: Publication, *, repository_name: str) -> bytes:
    """One A4 page announcing the thesis; ``invariant`` keeps the bytes the same for the same record."""
    if pub.thesis is None:
        raise ValueError("an announcement sheet is made for theses only")
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=9, leading=12, textColor=colors.HexColor("#333333"))
    body = ParagraphStyle("body", parent=styles["Normal"], fontSize=11, leading=15)
    title = ParagraphStyle("title", parent=styles["Title"], fontSize=20, leading=25, alignment=0)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=pub.title.full(), author=_names(pub, "aut"),
                            subject="Announcement of a doctoral thesis", creator=repository_name, invariant=1)
    level = "Doctoral thesis" if pub.thesis.level == "doctoral" else "Licentiate thesis"
    story = [Paragraph(escape(pub.institution_name or repository_name), styles["Heading3"]),
             Paragraph(escape(level), styles["Heading4"]), Spacer(1, 6 * mm),
             Paragraph(escape(_names(pub, "aut")), styles["Heading2"]),
             Paragraph(escape(pub.title.full()), title)]
    for t in pub.titles:
        if t.kind == "translated":
            story.append(Paragraph(f"<i>{escape(t.full())}</i>", body))
    story.append(Spacer(1, 6 * mm))
    facts: list[tuple[str, str]] = []
    if pub.thesis.defence_at:
        place = f", {pub.thesis.defence_place}" if pub.thesis.defence_place else ""
        facts.append(("Public defence", f"{pub.thesis.defence_at.strftime('%Y-%m-%d %H:%M')} UTC{place}"))
    for label, role in (("Opponent", "opn"), ("Supervisors", "ths"), ("Examining committee", "exm")):
        if names := _names(pub, role):
            facts.append((label, names))
    if pub.thesis.nailing_date:
        facts.append(("Electronic publication", pub.thesis.nailing_date.isoformat()))
    for s in pub.series:
        facts.append(("Series", f"{s.title}{f' {s.number}' if s.number else ''}"))
    for isbn in pub.identifiers_of("isbn"):
        facts.append(("ISBN", isbn))
    if urn := pub.identifier("urn"):
        facts.append(("URN", urn))
    if pub.url:
        facts.append(("Full text", pub.url))
    for label, value in facts:
        story.append(Paragraph(f"<b>{escape(label)}:</b> {escape(value)}", body))
    for abstract in pub.abstracts[:1]:
        text = abstract.text if len(abstract.text) <= ABSTRACT_LIMIT else abstract.text[:ABSTRACT_LIMIT].rsplit(" ", 1)[0] + " …"
        story += [Spacer(1, 6 * mm), Paragraph("<b>Abstract</b>", body), Paragraph(escape(text), small)]
    doc.build(story)
    return out.getvalue()
