"""
Which Qt binding this process uses: the one module that imports one.

A process can hold one Qt binding only: importing PyQt5 into a PySide6
program loads a second Qt library that knows nothing of the first one's
application, widgets or event loop. So the choice is made once, the first
time anything here needs Qt, in this order:

1. a binding the program has imported already (its application is the one
   that matters);
2. else the ``QT_API`` environment variable, with qtpy's and pytest-qt's
   values: ``pyqt5``, ``pyqt6``, ``pyside6``;
3. else the first one installed of PyQt5, PyQt6, PySide6.

`binding()` gives the choice and why it was made; everything else in the
package takes its Qt classes from there and never names a binding. Nothing
here imports a second binding into a process that has one.

Written here rather than taken from qtpy: the package needs a handful of
classes and one signal type, and qtpy, when imported, patches the binding it
wraps for the whole process (it adds ``exec_`` to PyQt6's classes, among
others), which a library should not do to its users' program.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .._errors import QtBindingError

__all__ = [
    "APIS",
    "API_ENV_VAR",
    "QtBinding",
    "QtBindingError",
    "binding",
    "imported_api",
]

#: The environment variable that names the binding (qtpy's convention).
API_ENV_VAR = "QT_API"

#: The bindings supported, by their ``QT_API`` name, in the order tried.
APIS = ("pyqt5", "pyqt6", "pyside6")

_PACKAGES = {"pyqt5": "PyQt5", "pyqt6": "PyQt6", "pyside6": "PySide6"}
_EXTRAS = "pip install 'twisted-qt-client[pyqt5]' (or [pyqt6], or [pyside6])"


@dataclass(frozen=True)
class QtBinding:
    """
    The Qt binding this process uses, and why it was chosen.

    ``QtCore`` is imported; `module` imports another of the binding's
    modules (``QtWidgets``, ``QtGui``, ``QtNetwork``) when asked for.
    """

    #: ``"pyqt5"``, ``"pyqt6"`` or ``"pyside6"``.
    api: str
    #: The binding's package: ``"PyQt5"``, ``"PyQt6"`` or ``"PySide6"``.
    name: str
    #: Why this one: it was imported already, ``QT_API`` asked for it, or it
    #: was the first installed.
    reason: str
    QtCore: ModuleType = field(repr=False)

    @property
    def version(self) -> str:
        """The binding's own version, such as ``"6.8.1"``."""
        core = self.QtCore
        if self.api == "pyside6":
            return str(importlib.import_module("PySide6").__version__)
        return str(core.PYQT_VERSION_STR)

    @property
    def qt_version(self) -> str:
        """The version of the Qt library the binding runs on."""
        return str(self.QtCore.qVersion())

    @property
    def qt_major(self) -> int:
        """5 or 6."""
        return int(self.qt_version.split(".", 1)[0])

    @property
    def Signal(self) -> Any:
        """The signal descriptor: ``Signal`` (PySide6) or ``pyqtSignal``."""
        if self.api == "pyside6":
            return self.QtCore.Signal
        return self.QtCore.pyqtSignal

    @property
    def Slot(self) -> Any:
        """The slot decorator: ``Slot`` (PySide6) or ``pyqtSlot``."""
        if self.api == "pyside6":
            return self.QtCore.Slot
        return self.QtCore.pyqtSlot

    def module(self, name: str) -> ModuleType:
        """The binding's module ``name`` (``"QtWidgets"``), imported if need be."""
        return importlib.import_module(f"{self.name}.{name}")

    def describe(self) -> str:
        """One line for users: ``PySide6 6.8.1 on Qt 6.8.1 (QT_API=pyside6)``."""
        return f"{self.name} {self.version} on Qt {self.qt_version} ({self.reason})"


_chosen: list[QtBinding] = []


def imported_api() -> str | None:
    """
    The binding this process has imported already, or None; imports nothing.

    When a program imported more than one, the one whose application exists
    wins, else the first in `APIS` order.
    """
    # A None entry in sys.modules blocks an import: that binding is not there.
    imported = [api for api in APIS if sys.modules.get(_PACKAGES[api]) is not None]
    for api in imported:
        core = sys.modules.get(f"{_PACKAGES[api]}.QtCore")
        if core is not None and core.QCoreApplication.instance() is not None:
            return api
    return imported[0] if imported else None


def binding() -> QtBinding:
    """
    The binding this process uses; chosen and imported on the first call.

    Raises:
        QtBindingError: ``QT_API`` is not one of `APIS`, names a binding that
            is not installed, or no binding is installed at all. The message
            says what to install.
    """
    if not _chosen:
        api, reason = _choose()
        package = _PACKAGES[api]
        try:
            core = importlib.import_module(f"{package}.QtCore")
        except ImportError as error:
            raise QtBindingError(
                f"{package} was chosen ({reason}) but cannot be imported: {error}"
            ) from error
        _chosen.append(QtBinding(api, package, reason, core))
    return _chosen[0]


def _choose() -> tuple[str, str]:
    """The binding to use and why, without importing one."""
    already = imported_api()
    wanted = os.environ.get(API_ENV_VAR, "").strip().lower()
    if already is not None:
        reason = f"{_PACKAGES[already]} was imported already"
        if wanted and wanted != already:
            reason += f"; {API_ENV_VAR}={wanted} is ignored: one binding per process"
        return already, reason
    if wanted:
        if wanted not in _PACKAGES:
            raise QtBindingError(
                f"{API_ENV_VAR}={wanted!r} is not a supported Qt binding; "
                f"use one of {', '.join(APIS)}"
            )
        if importlib.util.find_spec(_PACKAGES[wanted]) is None:
            extra = wanted
            raise QtBindingError(
                f"{API_ENV_VAR}={wanted} asks for {_PACKAGES[wanted]}, which is not "
                f"installed: pip install 'twisted-qt-client[{extra}]'"
            )
        return wanted, f"{API_ENV_VAR}={wanted}"
    for api in APIS:
        if importlib.util.find_spec(_PACKAGES[api]) is not None:
            return api, f"the first installed of {', '.join(_PACKAGES.values())}"
    raise QtBindingError(f"no Qt binding is installed: {_EXTRAS}")
