"""Public classes name the package a user imports them from, not a private module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["publish"]


def publish(
    package: str, namespace: Mapping[str, object], names: Iterable[str]
) -> None:
    """
    Set ``__module__`` to ``package`` on each class of ``names`` that is
    defined below it, or in a private module of the library's root (the one
    error tree, ``twisted_client._errors``, holds the errors that
    ``twisted_client.qt`` and ``twisted_client.compat`` publish).

    A traceback then shows ``twisted_client.ConnectError`` rather than
    ``twisted_client._errors.ConnectError``, and pickles refer to the public
    name, which keeps working when the private modules are rearranged.
    Names absent from ``namespace`` (loaded on first use) are skipped: the
    package publishes those when it loads them.
    """
    private = (f"{package}._", f"{package.partition('.')[0]}._")
    for name in names:
        value = namespace.get(name)
        if isinstance(value, type) and value.__module__.startswith(private):
            value.__module__ = package
