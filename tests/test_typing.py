"""
The reactor parameters are typed: ``mypy --strict`` (with the project's
configuration, mypy-zope included) accepts the reactors users pass and
rejects what is not a reactor, or a reactor without what the function needs.

mypy reads the files in tests/typing/ without running them, whatever the
reactor, so this runs once, in the pass without Qt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"

pytestmark = pytest.mark.reactorless

_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<text>.*)$")


def _mypy(path: Path) -> list[tuple[int, str]]:
    """(line, message) of each error ``mypy --strict`` reports for ``path``."""
    api = pytest.importorskip("mypy.api")
    report, errors, _status = api.run(
        [
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            str(path),
        ]
    )
    assert errors == "", errors
    found = []
    for line in report.splitlines():
        matched = _ERROR.match(line)
        if matched is not None:
            found.append((int(matched["line"]), matched["text"]))
    return found


def test_mypy_accepts_the_reactors_users_pass() -> None:
    """The global reactor, Twisted's reactors, ours, and the test doubles."""
    assert _mypy(TYPING / "accepted.py") == []


def test_mypy_rejects_what_is_not_the_reactor_a_function_needs() -> None:
    """Each line marked ``# rejected`` is an error about argument 1, the
    reactor (an int, a str, None, a `Clock` where TCP is needed), and no
    other line is."""
    source = (TYPING / "rejected.py").read_text().splitlines()
    marked = {
        number for number, text in enumerate(source, 1) if text.endswith("# rejected")
    }
    errors = _mypy(TYPING / "rejected.py")
    about_the_reactor = {
        line
        for line, text in errors
        if re.match(r'Argument 1 to "\w+" has incompatible type .*; expected "', text)
    }
    assert about_the_reactor == marked
    assert {line for line, _ in errors} == marked
    assert len(marked) >= 10
