"""The governors' report as one printable HTML page, with bar charts drawn in SVG (no script)."""

from __future__ import annotations

from typing import Any

from commands.services.governors import GovernorsReport
from ledger import localtime
from ledger.text import html_text as escape

STYLE = """
body { font: 11pt/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 16pt; } h2 { font-size: 12.5pt; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; } td, th { padding: 2px 10px 2px 0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.marking { text-transform: uppercase; letter-spacing: .08em; font-weight: 600; color: #7a0000; }
.note { color: #444; font-size: 9.5pt; }
@page { size: A4; margin: 18mm; @bottom-center { content: "Official - for governors. Page " counter(page) " of " counter(pages); } }
"""


def _bars(counts: dict[str, Any]) -> str:
    """A horizontal bar chart of ``counts`` (label -> number) as inline SVG."""
    numeric = {k: v for k, v in counts.items() if isinstance(v, int)}
    if not numeric:
        return '<p class="note">None in this period.</p>'
    top = max(numeric.values()) or 1
    height = 22 * len(numeric) + 4
    bars = []
    for i, (label, value) in enumerate(numeric.items()):
        width = int(300 * value / top)
        y = 22 * i + 2
        bars.append(f'<text x="0" y="{y + 14}" font-size="11">{escape(str(label))}</text>'
                    f'<rect x="260" y="{y + 3}" width="{width}" height="14" fill="#3b6ea5"></rect>'
                    f'<text x="{266 + width}" y="{y + 14}" font-size="11">{value}</text>')
    return (f'<svg role="img" width="640" height="{height}" viewBox="0 0 640 {height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>')


def _table(counts: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td class=\"n\">{escape(str(v))}</td></tr>"
                   for k, v in counts.items())
    return f"<table>{rows}</table>" if rows else '<p class="note">None in this period.</p>'


def render(found: GovernorsReport) -> str:
    """The whole report as an HTML document."""
    where = f" at {escape(found.school)}" if found.school else " across the federation"
    sections = [
        ("Incidents by category", _bars({r["title"]: r["count"] for r in found.by_category})),
        ("By school", _bars(found.by_school)),
        ("By term", _bars(found.by_term)),
        ("By kind of record", _table(found.by_class)),
        ("Where they stand", _table(found.by_status)),
        ("Outcomes", _table(found.outcomes)),
        ("Referrals and contacts outside the school", _bars(found.referrals)),
        ("Triage: how many, and hours from the report being recorded to its triage",
         _table({("cases triaged" if k == "triaged" else
                  "not yet triaged (cases)" if k == "not yet triaged" else f"{k} (hours)"): v
                 for k, v in found.triage_hours.items()})),
        ("Requests for approval", _table(found.approvals)),
        ("Monitoring alerts", _table(found.alerts) + _bars(found.alerts_by_category)),
    ]
    policy = (f"{found.acknowledged} of {found.covered_staff} staff have acknowledged the policy version in force"
              if found.covered_staff is not None else "No policy version is in force.")
    body = "".join(f"<h2>{escape(title)}</h2>{html}" for title, html in sections)
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in found.notes)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Report for governors {escape(found.start)} to {escape(found.end)}</title>"
        f"<style>{STYLE}</style></head><body>"
        "<p class=\"marking\">Official - for governors. Counts only: no personal data.</p>"
        f"<h1>Social media, mobile phone and smart technology policy: report for governors</h1>"
        f"<p>Incidents reported from {escape(found.start)} to {escape(found.end)}{where}: "
        f"<b>{found.incidents}</b>. {escape(policy)}.</p>{body}{notes}"
        f"<p class=\"note\">Generated {escape(localtime.shown(localtime.local(found.generated_at, found.zone)))} "
        "from the signed ledger.</p></body></html>\n"
    )
