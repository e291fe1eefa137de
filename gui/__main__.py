"""``python -m gui``: run the demo (see ``python -m gui --help``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the demo, return the exit status."""
    from ._app import run
    from ._options import parse_args

    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
