"""axe-core (npm, ``node_modules/axe-core``) run on a page in Chromium: the WCAG 2.1 A/AA
violations, of every impact (minor and moderate too: the accessibility statement says none
remains, so a new one is listed there with its reason or fixed; issue 18).

The script is evaluated through the DevTools protocol rather than added as a ``<script>`` tag:
the pages' Content-Security-Policy (scripts from this site's own files only) would block an
inline tag, and evaluation is not subject to it, so the page is checked with its real CSP on.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SERIOUS = {"serious", "critical"}
ANY = {"minor", "moderate", "serious", "critical"}


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run scripts/setup (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def violations(page, *, impacts=ANY) -> list[dict]:
    """axe's WCAG 2.1 AA violations on the page as it is now, of the given impacts."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                        resultTypes: ['violations']})""",
        WCAG_AA,
    )
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe(found: list[dict]) -> str:
    """The violations as readable lines: rule, impact, help and the offending elements."""
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {' '.join(map(str, node['target']))}: "
                         f"{node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)
