"""A timeline as one self-contained HTML file for a case file.

No scripts, no network, no external fonts or images: inline CSS only, with
print rules (A4 landscape, repeated table header, rows kept whole, the
confidentiality marking at the head of every page and "Page n of N" at its foot). Every
value is HTML-escaped, its control and direction characters written visibly.
"""

from __future__ import annotations

from typing import Any

from ledger import localtime
from ledger.text import html_text

from projections.reading import ERASED, WITHHELD
from projections.timeline import Timeline, about_line, shown_occurrence

STYLE = """
*{box-sizing:border-box}
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;font-size:10pt;color:#111;margin:16px;background:#fff}
h1{font-size:15pt;margin:0 0 6px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0 0 8px}
dl.meta dt{font-weight:bold}
dl.meta dd{margin:0}
p.note{font-size:9pt;color:#333;margin:4px 0 10px;max-width:70em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #888;padding:3px 5px;vertical-align:top;text-align:left}
th{background:#e8e8e8}
td.num,td.entry{text-align:right;white-space:nowrap}
td.when{white-space:nowrap}
span.flag{display:inline-block;border:1px solid #a00;color:#a00;font-weight:bold;padding:0 3px;margin-top:2px}
span.small{display:block;font-size:8.5pt;color:#444}
tr.late td.recorded{background:#fbe3e3}
tr.correction td{background:#eef2fb}
tr.correction td.what{padding-left:18px}
tr.withheld td.what,tr.erased td.what{font-style:italic;color:#555}
footer{margin-top:10px;font-size:8.5pt;color:#444}
p.marking{border:2px solid #a00;color:#a00;font-weight:bold;text-align:center;padding:3px;margin:0 0 8px}
dl.details{margin:3px 0 0;display:grid;grid-template-columns:max-content auto;gap:1px 8px}
dl.details dt{font-weight:bold;font-size:9pt}
dl.details dd{margin:0;white-space:pre-wrap}
@page{size:A4 landscape;margin:14mm 10mm;
 @top-center{content:"OFFICIAL-SENSITIVE: confidential safeguarding record";color:#a00;font:bold 8pt sans-serif}
 @bottom-right{content:"Page " counter(page) " of " counter(pages);font:8pt sans-serif}
 @bottom-left{content:"policy-ledger chronology";font:8pt sans-serif;color:#444}}
@media print{
 body{margin:0;font-size:8.5pt}
 thead{display:table-header-group}
 tr{page-break-inside:avoid;break-inside:avoid}
 th{background:#e8e8e8 !important;-webkit-print-color-adjust:exact;print-color-adjust:exact}
 tr.late td.recorded,tr.correction td{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

#: Shown at the top of the document and of every printed page.
MARKING = ("OFFICIAL-SENSITIVE: confidential safeguarding record. Share only with those who need it to keep "
           "a child safe, as the DSL directs; do not copy or leave unattended.")


escape = html_text


HEADINGS = (
    ("num", "#"), ("when", "Happened"), ("recorded", "Recorded"), ("by", "Recorded by (role)"),
    ("source", "Source"), ("what", "What happened"), ("action", "Action taken"),
    ("outcome", "Outcome"), ("entry", "Entry"),
)


def _happened(row: dict[str, Any]) -> str:
    precision = str(row["precision"])
    at = escape(shown_occurrence(row["happened_at"], precision if precision != "approximate" else "exact",
                                 row.get("happened_until")))
    label = "as recorded" if precision == "recorded" else precision
    return f'{at}<span class="small">precision: {escape(label)}</span>'


def _recorded(row: dict[str, Any]) -> str:
    text = escape(localtime.shown(row["recorded_at"]) if row["recorded_at"] else "")
    if row["late"]:
        text += f'<br><span class="flag">LATE</span><span class="small">{escape(str(row["recorded_after"]))}</span>'
    return text


def _by(row: dict[str, Any]) -> str:
    text = f'{escape(str(row["recorded_by"]))}<span class="small">{escape(str(row["role"]))}</span>'
    if row.get("signed_with"):
        text += f'<span class="flag">signed with {escape(str(row["signed_with"]))}</span>'
    return text


def _what(row: dict[str, Any], timeline: Timeline | None = None) -> str:
    text = escape(str(row["what"]))
    if timeline is not None and timeline.family and timeline.selection.person not in (row.get("about") or []):
        text = f'<span class="flag">{escape(about_line(row, timeline))}</span><br>' + text
    if row.get("read_model"):
        text += f'<span class="flag">{escape(str(row["read_model"]))}</span>'

    details = row.get("details") or []
    if details:
        text += '<dl class="details">' + "".join(
            f'<dt>{escape(str(d["label"]))}</dt><dd>{escape(str(d["text"]))}</dd>' for d in details) + "</dl>"
    if row["corrects"]:
        text = f'<span class="small">correction of {escape(str(row["corrects"]))}</span>' + text
    if row["corrected_by"]:
        text += f'<span class="small">corrected by {escape(str(row["corrected_by"]))} (below)</span>'
    return text


def _cells(number: int, row: dict[str, Any], timeline: Timeline | None = None) -> list[tuple[str, str]]:
    return [
        ("num", str(number)),
        ("when", _happened(row)),
        ("recorded", _recorded(row)),
        ("by", _by(row)),
        ("source", escape(str(row["source"]))),
        ("what", _what(row, timeline)),
        ("action", escape(str(row["action"]))),
        ("outcome", escape(str(row["outcome"]))),
        ("entry", f'{escape(str(row["entry"] if row["entry"] is not None else ""))}'
                  f'<span class="small">{escape(str(row["ref"]))}</span>'),
    ]


def render(timeline: Timeline) -> str:
    """The whole timeline as one HTML document."""
    rows = timeline.rows
    counts = {
        "late": sum(1 for r in rows if r["late"]),
        "withheld": sum(1 for r in rows if r["status"] == WITHHELD),
        "erased": sum(1 for r in rows if r["status"] == ERASED),
        "corrections": sum(1 for r in rows if r["corrects"]),
    }
    summary = f"{len(rows)} entries" + "".join(f", {n} {k}" for k, n in counts.items() if n)
    sel = timeline.selection
    zone = timeline.zone
    labels = {"name": "Name", "date_of_birth": "Date of birth", "school": "School", "job_title": "Job title"}
    meta = [(labels[k], timeline.person[k]) for k in labels if timeline.person.get(k)]
    if timeline.family:
        meta.append(("Linked family", ", ".join(timeline.family)))
    meta += [
        ("Covers", timeline.covers),
        ("As known on", localtime.shown(localtime.local(sel.as_of, zone)) if sel.as_of
         else "now (everything recorded so far)"),
        ("Generated", f"{localtime.shown(timeline.generated_at)} by {timeline.reader}"),
        ("Entries", summary),
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(timeline.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<header><p class="marking">{escape(MARKING)}</p>',
        f"<h1>{escape(timeline.title)}</h1><dl class=\"meta\">",
    ]
    out += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in meta]
    out.append(
        f"</dl><p class=\"note\">Times are local time in {escape(str(zone))}, each with its zone "
        "(such as GMT or BST in Europe/London). <b>LATE</b> marks an entry recorded more than 24 hours after it "
        "happened. A correction is shown directly below what it corrects; nothing recorded is ever altered. "
        "Entries the reader's roles may not open are listed as withheld, erased ones as erased. The entry number "
        "is the entry's position in the ledger's signed Merkle log, for inclusion proofs.</p></header>"
    )
    out.append("<table><thead><tr>" + "".join(f'<th class="{c}">{escape(t)}</th>' for c, t in HEADINGS) + "</tr></thead><tbody>")
    for number, row in enumerate(rows, start=1):
        classes = ["entry", escape(str(row["status"]).replace(" ", "-"))]
        if row["late"]:
            classes.append("late")
        if row["corrects"]:
            classes.append("correction")
        cells = "".join(f'<td class="{c}">{v}</td>' for c, v in _cells(number, row, timeline))
        out.append(f'<tr class="{" ".join(classes)}" data-ref="{escape(str(row["ref"]))}">{cells}</tr>')
    if not rows:
        out.append(f'<tr class="empty"><td colspan="{len(HEADINGS)}">No entries.</td></tr>')
    out.append("</tbody></table>")
    out.append(f"<footer>policy-ledger timeline. {escape(summary)}.</footer></body></html>")
    return "\n".join(out) + "\n"
