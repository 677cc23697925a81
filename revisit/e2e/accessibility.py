"""Accessibility checks a journey runs on each page it visits.

- `AxeAudit` runs axe-core (bundled with the `axe-playwright-python` package) with the WCAG 2.2
  A/AA rule tags and keeps the violations per page for one JSON report. A report names rules,
  CSS selectors and axe's summaries, never an element's HTML (it could hold a person's name).
- `tab_stops` presses Tab through a part of a page and tells, for each visible control, whether
  Tab reached it and whether the focused control looked different (outline or box shadow).
- `videos_without_captions` lists the video elements with a source but no captions track.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from revisit.e2e.reports import write_json

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _axe_source() -> str:
    """axe.min.js as the `axe-playwright-python` package ships it (read, not imported)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None or spec.origin is None:
        raise RuntimeError("axe-playwright-python is not installed: run scripts/setup --dev")
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


def _page_path(url: str) -> str:
    """The path only: no query string, no invitation key."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url).split("?", 1)[0].split("#", 1)[0]
    return re.sub(r"/invite/(?!accept/)[^/]+/", "/invite/[key]/", path)


@dataclass
class AxeAudit:
    """Runs axe on named pages and collects what it found."""

    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: str = ""
    _source: str = ""

    def check(self, page: Page, name: str) -> list[dict[str, Any]]:
        """Run axe on the page as it is now; returns (and keeps) its violations."""
        if not self._source:
            self._source = _axe_source()
        if not page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated over the DevTools protocol, so the page's CSP does not apply.
            page.evaluate(self._source)
        options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
        results: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
        self.version = str(results.get("testEngine", {}).get("version", ""))
        violations = [
            {
                "rule": v["id"],
                "impact": v.get("impact"),
                "help": v["help"],
                "tags": [t for t in v["tags"] if t.startswith("wcag")],
                "nodes": [
                    {"target": n["target"], "summary": n.get("failureSummary", "")}
                    for n in v["nodes"]
                ],
            }
            for v in results["violations"]
        ]
        self.pages[name] = {"path": _page_path(page.url), "violations": violations}
        return violations

    def total(self) -> int:
        return sum(len(p["violations"]) for p in self.pages.values())

    def summary(self) -> str:
        lines = []
        for name, found in self.pages.items():
            for v in found["violations"]:
                targets = ", ".join(" ".join(n["target"]) for n in v["nodes"][:5])
                lines.append(f"{name}: {v['rule']} ({v['impact']}) {v['help']} at {targets}")
        return "\n".join(lines)

    def write(self, filename: str) -> Path:
        return write_json(
            filename,
            {
                "engine": f"axe-core {self.version}",
                "tags": WCAG_TAGS,
                "pages": self.pages,
                "violations": self.total(),
            },
        )


# Marks each visible control in `root`, notes how it looks unfocused, and returns how many.
_MARK = """
(root) => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex], '
    + 'video[controls], audio[controls]';
  const scope = document.querySelector(root);
  let n = 0;
  const radioGroups = new Set();
  for (const el of scope.querySelectorAll(selector)) {
    delete el.dataset.tabStop;
    if (el.disabled || el.getAttribute('tabindex') === '-1') continue;
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('[hidden], [inert]')) continue;
    if (el.type === 'radio') {  // a radio group is one Tab stop: its checked (or first) radio
      if (radioGroups.has(el.name)) continue;
      radioGroups.add(el.name);
    }
    el.dataset.tabStop = String(n);
    el.dataset.tabRest = JSON.stringify([style.outlineStyle, style.outlineWidth, style.boxShadow]);
    n += 1;
  }
  return n;
}
"""

# What has focus now: its mark (or null) and whether it looks focused.
_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
    && !/rgba\\(\\d+, \\d+, \\d+, 0\\)|transparent/.test(style.outlineColor);
  const rest = el.dataset.tabRest ? JSON.parse(el.dataset.tabRest) : ['none', '0px', 'none'];
  const shadow = style.boxShadow !== 'none' && style.boxShadow !== rest[2];
  const radio = el.type === 'radio' ? el.name : null;
  return {
    stop: el.dataset.tabStop ?? null,
    radio: radio,
    label: (el.getAttribute('aria-label') || el.textContent || el.name || el.tagName).trim()
      .slice(0, 40),
    visible: outline || shadow,
  };
}
"""


@dataclass
class TabReport:
    stops: int
    reached: set[str]
    without_indicator: list[str]

    @property
    def missed(self) -> int:
        return self.stops - len(self.reached)


def tab_stops(page: Page, root: str, *, max_presses: int = 400) -> TabReport:
    """Press Tab from the top of the page until focus comes round again (or max_presses)."""
    stops = int(page.evaluate(_MARK, root))
    page.evaluate(
        "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
    )
    reached: set[str] = set()
    without: list[str] = []
    seen_first: str | None = None
    radio_stop = page.evaluate(
        """root => Object.fromEntries([...document.querySelectorAll(root + ' [data-tab-stop]')]
             .filter(el => el.type === 'radio').map(el => [el.name, el.dataset.tabStop]))""",
        root,
    )
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None:
            continue
        key = focused["stop"]
        if key is None and focused["radio"] in radio_stop:
            key = radio_stop[focused["radio"]]  # another radio of a marked group
        identity = f"{key}:{focused['label']}"
        if seen_first is None:
            seen_first = identity
        elif identity == seen_first:
            break
        if key is None:
            continue
        reached.add(key)
        if not focused["visible"]:
            without.append(focused["label"])
    return TabReport(stops=stops, reached=reached, without_indicator=without)


def unreached_labels(page: Page, root: str, report: TabReport) -> list[str]:
    labels: list[str] = page.evaluate(
        """([root, reached]) => [...document.querySelectorAll(root + ' [data-tab-stop]')]
             .filter(el => !reached.includes(el.dataset.tabStop))
             .map(el => (el.getAttribute('aria-label') || el.textContent || el.name
                         || el.tagName).trim().slice(0, 40))""",
        [root, sorted(report.reached)],
    )
    return labels


def videos_without_captions(page: Page) -> int:
    """How many <video> elements that have a source lack a captions or subtitles track."""
    count: int = page.evaluate(
        """() => [...document.querySelectorAll('video')]
             .filter(v => v.currentSrc || v.getAttribute('src') || v.querySelector('source'))
             .filter(v => !v.querySelector('track[kind=captions], track[kind=subtitles]'))
             .length"""
    )
    return count
