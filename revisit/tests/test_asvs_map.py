"""docs/asvs.md stays true: each requirement it marks as met names tests that exist.

The checker reads the four sections of the checklist that carry requirement rows:

- "Met" and "Met above level 2": each row names at least one test as
  `path/to/test_file.py::test_name` (or `::TestClass::test_name`, or with a `[case]` suffix);
  the file must exist and define that test. Requirements of a chapter's documentation section
  (V<n>.1.<m>) may instead name the document that meets them, `docs/file.md#heading`.
- "Not met, partly met or untested": each row has a known status and says what is missing.
- "Not applicable": each row says why.

Everywhere, an id must look like V<chapter>.<section>.<requirement> and appear only once, and a
test or project file mentioned in any other cell (`path::test`, `revisit/x.py`) must exist.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = ROOT / "docs" / "asvs.md"


class Section(StrEnum):
    MET = "met"
    GAP = "gap"
    NOT_APPLICABLE = "not applicable"


# The `## ` headings whose tables the checker reads; any other heading ends such a section.
SECTIONS = {
    "Met": Section.MET,
    "Met above level 2": Section.MET,
    "Not met, partly met or untested": Section.GAP,
    "Not applicable": Section.NOT_APPLICABLE,
}
STATUSES = frozenset({"not met", "partly met", "untested"})

# Column headings, by section: the id column, and the column that must not be empty.
ID_COLUMN = "Requirement"
EVIDENCE_COLUMN = {
    Section.MET: "Tests",
    Section.GAP: "What is missing",
    Section.NOT_APPLICABLE: "Why not",
}
STATUS_COLUMN = "Status"

ASVS_ID = re.compile(r"V(?:[1-9]|1[0-7])\.[1-9][0-9]?\.[1-9][0-9]?")
TEST_REF = re.compile(
    r"(?P<path>[A-Za-z0-9_.][A-Za-z0-9_./-]*\.py)"
    r"::(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)?)"
    r"(?:\[[^\]`]*\])?"
)
DOC_REF = re.compile(r"(?P<path>docs/[A-Za-z0-9_./-]+\.md)(?:#(?P<anchor>[a-z0-9-]+))?")
# A project file mentioned in passing: a relative path with a folder and a known suffix.
FILE_MENTION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*/[A-Za-z0-9_./-]*\.(?:py|md|html|js|css)")
CODE_SPAN = re.compile(r"`([^`]+)`")


class Kind(StrEnum):
    MALFORMED_ID = "malformed requirement id"
    DUPLICATE = "requirement listed more than once"
    NO_TEST = "met, but no test is named"
    MALFORMED_REFERENCE = "not a reference to a test"
    NO_SUCH_FILE = "no such file"
    UNREADABLE_FILE = "file cannot be parsed"
    NO_SUCH_TEST = "no such test in that file"
    NOT_A_TEST = "named function is not a test"
    DOCUMENT_NOT_ENOUGH = "a document proves only a documentation requirement"
    NO_SUCH_HEADING = "no such heading in that document"
    UNKNOWN_STATUS = "unknown status"
    NOTHING_SAID = "nothing said"
    MALFORMED_TABLE = "table without the expected columns"


@dataclass(frozen=True)
class Problem:
    kind: Kind
    requirement: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.requirement or '(table)'}: {self.kind}{detail}"


@dataclass(frozen=True)
class Row:
    section: Section
    cells: dict[str, str]
    line: int


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [cell.strip() for cell in inner.split("|")]


def _is_separator(cells: list[str]) -> bool:
    return all(cell and set(cell) <= set("-: ") for cell in cells)


def rows(markdown: str) -> Iterator[Row | Problem]:
    """Every table row of the sections the checker reads, keyed by its column headings."""
    section: Section | None = None
    header: list[str] | None = None
    previous: list[str] | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        if line.startswith("## "):
            section = SECTIONS.get(line[3:].strip())
            header = previous = None
            continue
        if section is None or not line.lstrip().startswith("|"):
            header = previous = None
            continue
        cells = _cells(line)
        if header is None:
            if previous is not None and _is_separator(cells):
                header = previous
                if ID_COLUMN not in header or EVIDENCE_COLUMN[section] not in header:
                    yield Problem(Kind.MALFORMED_TABLE, "", f"line {number - 1}: {header}")
                    header = []  # its rows cannot be read
            previous = cells
            continue
        if header:
            yield Row(section, dict(zip(header, cells, strict=False)), number)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKC", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


class Sources:
    """Reads and parses each referenced file once; refuses paths outside the root."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._tests: dict[Path, set[str] | None] = {}
        self._anchors: dict[Path, set[str]] = {}

    def path(self, relative: str) -> Path | None:
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def definitions(self, path: Path) -> set[str] | None:
        """`name` and `Class::name` for every function and class method; None if unparsable."""
        if path not in self._tests:
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                self._tests[path] = None
            else:
                self._tests[path] = set(_defined_names(tree.body, prefix=""))
        return self._tests[path]

    def anchors(self, path: Path) -> set[str]:
        if path not in self._anchors:
            headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", path.read_text(encoding="utf-8"), re.M)
            self._anchors[path] = {_slug(h) for h in headings}
        return self._anchors[path]


def _defined_names(body: list[ast.stmt], *, prefix: str) -> Iterator[str]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name
        elif isinstance(node, ast.ClassDef) and not prefix:
            yield from _defined_names(node.body, prefix=f"{node.name}::")
        elif isinstance(node, ast.Assign) and not prefix:
            # `test_x = pytest.mark.slow(_check)`: a test made by assignment.
            yield from (t.id for t in node.targets if isinstance(t, ast.Name))


def _is_test_name(qualified: str) -> bool:
    *classes, function = qualified.split("::")
    return function.startswith("test") and all(c.startswith("Test") for c in classes)


def _check_test(reference: str, requirement: str, sources: Sources) -> list[Problem]:
    match = TEST_REF.fullmatch(reference)
    if match is None:
        return [Problem(Kind.MALFORMED_REFERENCE, requirement, reference)]
    path = sources.path(match["path"])
    if path is None:
        return [Problem(Kind.NO_SUCH_FILE, requirement, match["path"])]
    names = sources.definitions(path)
    if names is None:
        return [Problem(Kind.UNREADABLE_FILE, requirement, match["path"])]
    if match["name"] not in names:
        return [Problem(Kind.NO_SUCH_TEST, requirement, reference)]
    if not _is_test_name(match["name"]):
        return [Problem(Kind.NOT_A_TEST, requirement, reference)]
    return []


def _check_document(match: re.Match[str], requirement: str, sources: Sources) -> list[Problem]:
    if requirement.split(".")[1] != "1":
        return [Problem(Kind.DOCUMENT_NOT_ENOUGH, requirement, match[0])]
    path = sources.path(match["path"])
    if path is None:
        return [Problem(Kind.NO_SUCH_FILE, requirement, match["path"])]
    if match["anchor"] and match["anchor"] not in sources.anchors(path):
        return [Problem(Kind.NO_SUCH_HEADING, requirement, match[0])]
    return []


def _check_met(requirement: str, evidence: str, sources: Sources) -> list[Problem]:
    references = CODE_SPAN.findall(evidence)
    if not references:
        return [Problem(Kind.NO_TEST, requirement)]
    problems: list[Problem] = []
    for reference in references:
        document = DOC_REF.fullmatch(reference)
        if document is not None:
            problems += _check_document(document, requirement, sources)
        else:
            problems += _check_test(reference, requirement, sources)
    return problems


def _check_mentions(requirement: str, cells: list[str], sources: Sources) -> list[Problem]:
    """Tests and files named in passing (how a requirement is met, what is missing) exist."""
    problems: list[Problem] = []
    for span in (span for cell in cells for span in CODE_SPAN.findall(cell)):
        if "::" in span:
            problems += _check_test(span, requirement, sources)
        elif FILE_MENTION.fullmatch(span) and sources.path(span) is None:
            problems.append(Problem(Kind.NO_SUCH_FILE, requirement, span))
    return problems


def _check_row(row: Row, requirement: str, sources: Sources) -> list[Problem]:
    evidence_column = EVIDENCE_COLUMN[row.section]
    evidence = row.cells.get(evidence_column, "")
    if row.section is Section.MET:
        problems = _check_met(requirement, evidence, sources)
    else:
        problems = [] if evidence else [Problem(Kind.NOTHING_SAID, requirement, evidence_column)]
    status = row.cells.get(STATUS_COLUMN, "")
    if row.section is Section.GAP and status not in STATUSES:
        problems.insert(0, Problem(Kind.UNKNOWN_STATUS, requirement, status))
    # In the "met" tables the evidence column was read strictly above; elsewhere it is prose.
    strict = {ID_COLUMN, evidence_column} if row.section is Section.MET else {ID_COLUMN}
    others = [text for column, text in row.cells.items() if column not in strict]
    return problems + _check_mentions(requirement, others, sources)


def check(markdown: str, *, root: Path) -> list[Problem]:
    """Every problem in a checklist written in markdown, with paths relative to `root`."""
    sources = Sources(root)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row in rows(markdown):
        if isinstance(row, Problem):
            problems.append(row)
            continue
        requirement = row.cells.get(ID_COLUMN, "")
        if not ASVS_ID.fullmatch(requirement):
            problems.append(Problem(Kind.MALFORMED_ID, requirement, f"line {row.line}"))
            continue
        if requirement in seen:
            detail = f"lines {seen[requirement]} and {row.line}"
            problems.append(Problem(Kind.DUPLICATE, requirement, detail))
        seen.setdefault(requirement, row.line)
        problems += _check_row(row, requirement, sources)
    return problems


def requirements(markdown: str) -> dict[str, Section]:
    return {
        row.cells[ID_COLUMN]: row.section
        for row in rows(markdown)
        if isinstance(row, Row) and ID_COLUMN in row.cells
    }


# --- The checklist itself -----------------------------------------------------------------------


def test_it_finds_nothing_wrong_in_the_checklist() -> None:
    problems = check(CHECKLIST.read_text(encoding="utf-8"), root=ROOT)
    assert problems == [], "\n".join(str(p) for p in problems)


def test_it_covers_every_chapter_it_promises() -> None:
    listed = requirements(CHECKLIST.read_text(encoding="utf-8"))
    chapters = {requirement.split(".")[0] for requirement in listed}
    assert {"V3", "V5", "V6", "V7", "V8", "V11", "V13", "V14", "V16"} <= chapters
    sections = set(listed.values())
    assert sections == set(Section)
    met = [r for r, section in listed.items() if section is Section.MET]
    assert len(met) >= 40, "fewer requirements marked as met than the checklist promised"


# --- The checker, on small checklists written to break it ---------------------------------------

HEADERS = {
    Section.MET: "| Requirement | What it asks | How | Tests |\n|---|---|---|---|\n",
    Section.GAP: "| Requirement | What it asks | Status | What is missing |\n|---|---|---|---|\n",
    Section.NOT_APPLICABLE: "| Requirement | What it asks | Why not |\n|---|---|---|\n",
}
HEADINGS = {
    Section.MET: "## Met\n\n",
    Section.GAP: "## Not met, partly met or untested\n\n",
    Section.NOT_APPLICABLE: "## Not applicable\n\n",
}

SAMPLE_TESTS = """
import pytest


def _helper():
    pass


def test_plain():
    pass


async def test_async():
    pass


@pytest.mark.parametrize("n", [1, 2])
def test_cases(n):
    pass


class TestGroup:
    def test_inside(self):
        pass
"""


def checklist(section: Section, *lines: str) -> str:
    return HEADINGS[section] + HEADERS[section] + "".join(line + "\n" for line in lines)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "app" / "tests").mkdir(parents=True)
    (tmp_path / "app" / "tests" / "test_sample.py").write_text(SAMPLE_TESTS)
    (tmp_path / "app" / "tests" / "test_broken.py").write_text("def test_x(:\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "policy.md").write_text("# Policy\n\n## Session limits\n\ntext\n")
    return tmp_path


def kinds(problems: list[Problem]) -> list[Kind]:
    return [p.kind for p in problems]


SAMPLE = "app/tests/test_sample.py"


def test_it_accepts_plain_async_parametrized_and_class_tests(root: Path) -> None:
    markdown = checklist(
        Section.MET,
        f"| V7.3.1 | idle | middleware | `{SAMPLE}::test_plain` |",
        f"| V7.3.2 | lifetime | store | `{SAMPLE}::test_async`<br>`{SAMPLE}::test_cases` |",
        f"| V8.2.2 | objects | selectors | `{SAMPLE}::test_cases[2]` |",
        f"| V8.2.1 | functions | roles | `{SAMPLE}::TestGroup::test_inside` |",
        "| V7.1.1 | documented | ops guide | `docs/policy.md#session-limits` |",
    )
    assert check(markdown, root=root) == []


def test_it_reports_a_met_requirement_without_a_test(root: Path) -> None:
    markdown = checklist(
        Section.MET,
        "| V7.3.1 | idle | middleware | |",
        "| V7.3.2 | lifetime | store | a test somewhere |",
    )
    problems = check(markdown, root=root)
    assert kinds(problems) == [Kind.NO_TEST, Kind.NO_TEST]
    assert [p.requirement for p in problems] == ["V7.3.1", "V7.3.2"]


@pytest.mark.parametrize(
    "path",
    [
        "app/tests/test_missing.py",
        "app/tests/test_sample.py/x.py",  # below a file
        "../outside/test_sample.py",  # a real file, but outside the project
        "app/../../outside/test_sample.py",
    ],
)
def test_it_reports_a_test_file_that_does_not_exist(root: Path, path: str) -> None:
    (root.parent / "outside").mkdir(exist_ok=True)
    (root.parent / "outside" / "test_sample.py").write_text(SAMPLE_TESTS)
    markdown = checklist(Section.MET, f"| V7.3.1 | idle | middleware | `{path}::test_plain` |")
    problems = check(markdown, root=root)
    assert kinds(problems) == [Kind.NO_SUCH_FILE]
    assert problems[0].requirement == "V7.3.1" and problems[0].detail == path


@pytest.mark.parametrize(
    "name",
    ["test_gone", "TestGroup::test_gone", "test_inside", "Other::test_inside", "TestGroup"],
)
def test_it_reports_a_test_that_the_file_does_not_define(root: Path, name: str) -> None:
    markdown = checklist(Section.MET, f"| V7.3.1 | idle | middleware | `{SAMPLE}::{name}` |")
    assert kinds(check(markdown, root=root)) == [Kind.NO_SUCH_TEST]


def test_it_reports_a_helper_named_as_a_test(root: Path) -> None:
    markdown = checklist(Section.MET, f"| V7.3.1 | idle | middleware | `{SAMPLE}::_helper` |")
    assert kinds(check(markdown, root=root)) == [Kind.NOT_A_TEST]


def test_it_reports_a_test_file_it_cannot_parse(root: Path) -> None:
    markdown = checklist(
        Section.MET, "| V7.3.1 | idle | middleware | `app/tests/test_broken.py::test_x` |"
    )
    assert kinds(check(markdown, root=root)) == [Kind.UNREADABLE_FILE]


@pytest.mark.parametrize(
    "reference",
    [
        f"{SAMPLE}:test_plain",
        f"{SAMPLE}::",
        f"{SAMPLE}::test plain",
        "test_plain",
        f"{SAMPLE}::A::B::test_plain",
        "app/tests/test_sample.txt::test_plain",
        "/etc/test_hosts.py::test_plain",  # absolute paths are not references
        f"{SAMPLE}::test_plain; rm -rf /",
    ],
)
def test_it_reports_a_reference_that_is_not_shaped_like_a_test(root: Path, reference: str) -> None:
    markdown = checklist(Section.MET, f"| V7.3.1 | idle | middleware | `{reference}` |")
    assert kinds(check(markdown, root=root)) == [Kind.MALFORMED_REFERENCE]


def test_it_reports_the_same_requirement_listed_twice(root: Path) -> None:
    markdown = (
        checklist(Section.MET, f"| V7.3.1 | idle | middleware | `{SAMPLE}::test_plain` |")
        + "\n"
        + checklist(Section.GAP, "| V7.3.1 | idle | partly met | staff only |")
    )
    problems = check(markdown, root=root)
    assert kinds(problems) == [Kind.DUPLICATE]
    assert problems[0].requirement == "V7.3.1" and "lines 5 and 11" in problems[0].detail


@pytest.mark.parametrize(
    "requirement",
    [
        "V7.3",
        "7.3.1",
        "v7.3.1",
        "V07.3.1",
        "V7.03.1",
        "V18.1.1",
        "V0.1.1",
        "V7.3.1a",
        "V7..1",
        "V7.3.1.2",
        "**V7.3.1**",
        "V7.3.1<script>",
        "",
    ],
)
def test_it_reports_a_malformed_id(root: Path, requirement: str) -> None:
    markdown = checklist(
        Section.MET, f"| {requirement} | idle | middleware | `{SAMPLE}::test_plain` |"
    )
    problems = check(markdown, root=root)
    assert kinds(problems) == [Kind.MALFORMED_ID]
    assert problems[0].requirement == requirement


def test_it_accepts_a_document_only_for_a_documentation_requirement(root: Path) -> None:
    markdown = checklist(
        Section.MET,
        "| V7.3.1 | idle | middleware | `docs/policy.md` |",
        "| V7.1.1 | documented | ops guide | `docs/policy.md#no-such-heading` |",
        "| V7.1.2 | documented | ops guide | `docs/missing.md` |",
    )
    assert kinds(check(markdown, root=root)) == [
        Kind.DOCUMENT_NOT_ENOUGH,
        Kind.NO_SUCH_HEADING,
        Kind.NO_SUCH_FILE,
    ]


def test_it_reports_an_unknown_status_and_rows_that_say_nothing(root: Path) -> None:
    markdown = (
        checklist(
            Section.GAP,
            "| V6.2.12 | breached | done-ish | no list |",
            "| V6.2.11 | words | not met | |",
        )
        + "\n"
        + checklist(Section.NOT_APPLICABLE, "| V6.8.1 | identity providers | |")
    )
    assert kinds(check(markdown, root=root)) == [
        Kind.UNKNOWN_STATUS,
        Kind.NOTHING_SAID,
        Kind.NOTHING_SAID,
    ]


def test_it_checks_tests_and_files_mentioned_in_passing(root: Path) -> None:
    markdown = (
        checklist(
            Section.MET,
            "| V7.3.1 | idle | `app/tests/gone.py` and `/accounts/email/` "
            f"| `{SAMPLE}::test_plain` |",
        )
        + "\n"
        + checklist(
            Section.GAP,
            f"| V7.3.2 | lifetime | partly met | see `{SAMPLE}::test_gone` and `{SAMPLE}` |",
        )
    )
    problems = check(markdown, root=root)
    assert [(p.kind, p.requirement, p.detail) for p in problems] == [
        (Kind.NO_SUCH_FILE, "V7.3.1", "app/tests/gone.py"),
        (Kind.NO_SUCH_TEST, "V7.3.2", f"{SAMPLE}::test_gone"),
    ]


def test_it_reports_a_table_without_the_columns_it_reads(root: Path) -> None:
    markdown = "## Met\n\n| Id | Proof |\n|---|---|\n| V7.3.1 | x |\n"
    problems = check(markdown, root=root)
    assert Kind.MALFORMED_TABLE in kinds(problems)


def test_it_ignores_tables_outside_the_sections_it_reads(root: Path) -> None:
    markdown = (
        "## Cryptographic inventory\n\n| What | Algorithm |\n|---|---|\n| tokens | HMAC |\n\n"
        + checklist(Section.MET, f"| V7.3.1 | idle | middleware | `{SAMPLE}::test_plain` |")
        + "\n## Notes\n\n| Requirement | Tests |\n|---|---|\n| nonsense | |\n"
    )
    assert check(markdown, root=root) == []
