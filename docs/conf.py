"""
Sphinx configuration: the guides (docs/*.md) and the API reference
(docs/api/), generated from the docstrings.

Build it (offline, warnings are errors) from the repository root::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html

Links to the Python, Twisted and Qt documentation need the network: set
``TWISTED_CLIENT_DOCS_INTERSPHINX=1`` to turn them on. Without it, names
from those projects are shown unlinked (``nitpick_ignore_regex`` below);
our own names always have to resolve.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document this tree, also without an install
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

project = "twisted-qt-client"
author = "twisted-qt-client contributors"
copyright = "the twisted-qt-client contributors"

extensions = [
    "myst_parser",  # the guides (docs/*.md), which GitHub shows as they are
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

exclude_patterns = ["_build"]
html_theme = "alabaster"

# `name` in a docstring is a cross-reference (the docstrings' own style).
default_role = "py:obj"
nitpicky = True

autodoc_default_options = {
    "members": True,  # the module's __all__: new public names appear by themselves
    "undoc-members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# QtClient's signals, listed as its arguments are.
napoleon_custom_sections = [("Signals", "params_style")]

if os.environ.get("TWISTED_CLIENT_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "twisted": ("https://docs.twisted.org/en/stable/api/", None),
    }

# Our public modules: one page each (the .rst files beside this one).
PUBLIC_MODULES = [
    "twisted_client",
    "twisted_client.qt",
    "twisted_client.compat",
    "twisted_client.compat.qt",
    "twisted_client.compat.threaded",
    "twisted_client.testing",
    "twisted_client.server",
    "twisted_client.pytest_plugin",
]

# Names of other projects that our docstrings and annotations write short:
# linked through intersphinx when it is on, shown unlinked otherwise.
EXTERNAL = {
    "AsyncioSelectorReactor": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    "CancelledError": "twisted.internet.defer.CancelledError",
    "Certificate": "twisted.internet.ssl.Certificate",
    "Clock": "twisted.internet.task.Clock",
    "Deferred": "twisted.internet.defer.Deferred",
    "EPollReactor": "twisted.internet.epollreactor.EPollReactor",
    "Failure": "twisted.python.failure.Failure",
    "IAddress": "twisted.internet.interfaces.IAddress",
    "IDelayedCall": "twisted.internet.interfaces.IDelayedCall",
    "IListeningPort": "twisted.internet.interfaces.IListeningPort",
    "IOpenSSLTrustRoot": "twisted.internet.interfaces.IOpenSSLTrustRoot",
    "IPv4Address": "twisted.internet.address.IPv4Address",
    "IPv6Address": "twisted.internet.address.IPv6Address",
    "IReactorTCP": "twisted.internet.interfaces.IReactorTCP",
    "IReactorTime": "twisted.internet.interfaces.IReactorTime",
    "IStreamClientEndpoint": "twisted.internet.interfaces.IStreamClientEndpoint",
    "ITransport": "twisted.internet.interfaces.ITransport",
    "MemoryReactorClock": "twisted.internet.testing.MemoryReactorClock",
    "ModuleType": "types.ModuleType",
    "platformTrust": "twisted.internet.ssl.platformTrust",
    "QtReactor": "qt5reactor.QtReactor",
    "sendall": "socket.socket.sendall",
}
_EXTERNAL_PACKAGES = (
    "twisted|zope|PyQt5|PyQt6|PySide6|shiboken6|qt5reactor|OpenSSL|pytest|_pytest"
    "|collections|typing|types|asyncio|_asyncio|socket|ssl|queue|threading"
    "|argparse|sys|os|enum|concurrent"
)
# Offline, every name of those packages is shown unlinked, and so are the
# short names above and their attributes (`Deferred.fromCoroutine`). So is a
# class of a private module of ours in an annotation (py:class only: a type
# variable ``_T``, a reactor protocol), which the reference does not
# document. Any other name of ours that does not resolve, and every one a
# docstring names, is an error: a docstring to fix.
nitpick_ignore_regex = [
    (r"py:.*", rf"({_EXTERNAL_PACKAGES})\..*"),
    (r"py:.*", rf"({'|'.join(EXTERNAL)}|QEventLoop)(\..*)?"),
    (r"py:class", r"twisted_client(\.\w+)*\._\w+\.\w+"),
]


def _public_modules() -> list[Any]:
    """Import our public modules, with the names they load on first use."""
    import importlib

    modules = [importlib.import_module(name) for name in PUBLIC_MODULES]
    for module in modules:
        for name in module.__all__:
            # twisted_client.qt loads QtClient and Qt5Reactor on first use
            # (module __getattr__); autodoc reads the module's namespace.
            setattr(module, name, getattr(module, name))
    return modules


def _reexported_attribute_docs(app: Any) -> None:
    """
    Give re-exported names the attribute docs of the module that defines
    them: ``#:`` comments and docstrings of constants, and those of instance
    attributes set in ``__init__``. autodoc reads them only from the source
    of ``__module__``, and ours are defined in private modules (a published
    class's ``__module__`` is its public package).
    """
    from sphinx.pycode import ModuleAnalyzer

    modules = _public_modules()
    ours = sorted(name for name in sys.modules if name.startswith("twisted_client."))
    for module in modules:
        analyzer = ModuleAnalyzer.for_module(module.__name__)
        analyzer.analyze()
        for name in module.__all__:
            value = getattr(module, name)
            for defining in ours:
                if defining == module.__name__ or "._" not in defining:
                    continue
                if getattr(sys.modules[defining], name, None) is not value:
                    continue
                docs = ModuleAnalyzer.for_module(defining).find_attr_docs()
                for (scope, attribute), lines in docs.items():
                    if scope == name or (scope, attribute) == ("", name):
                        analyzer.attr_docs.setdefault((scope, attribute), lines)


def _resolve_short_names(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """
    Resolve `Name` as our docstrings write it, from any of our modules: the
    one documented object of ours whose dotted name ends with it (the
    nearest to the referring module if several do); a short name of another
    project goes to intersphinx under its full name.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    first, dot, rest = target.partition(".")
    if first in EXTERNAL:
        if "sphinx.ext.intersphinx" not in app.extensions:
            return None
        from sphinx.ext.intersphinx import missing_reference

        node = node.deepcopy()
        node["reftarget"] = EXTERNAL[first] + dot + rest
        return missing_reference(app, env, node, contnode)
    domain = env.get_domain("py")
    matches = [
        name
        for name in domain.objects
        if name.startswith("twisted_client.") and name.endswith(f".{target}")
    ]
    if not matches:
        return None
    here = (node.get("py:module") or "").split(".")

    def nearness(name: str) -> tuple[int, int]:
        shared = 0
        for mine, theirs in zip(here, name.split("."), strict=False):
            if mine != theirs:
                break
            shared += 1
        return -shared, len(name)

    best = min(matches, key=nearness)
    entry = domain.objects[best]
    from sphinx.util.nodes import make_refnode

    return make_refnode(
        app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, best
    )


_INTERFACE_REPR = re.compile(r"<InterfaceClass ([\w.]+)>")
_WORD = re.compile(r"(?<![\w.~])[A-Za-z_]\w*")


def _alias_text(obj: object, word: str) -> str | None:
    """
    The definition of the type alias ``word`` as seen from ``obj``, when it
    is one of ours the reference does not document (``Trust``, ``ServerTLS``,
    ``Handler``: not in their module's ``__all__``), else None.
    """
    from sphinx.util.typing import stringify_annotation

    for holder in (obj, getattr(obj, "__init__", None)):
        module = sys.modules.get(getattr(holder, "__module__", None) or "")
        if module is None or not module.__name__.startswith("twisted_client"):
            continue
        value = vars(module).get(word)
        if word in getattr(module, "__all__", ()):
            continue
        if type(value).__module__ in {"types", "typing", "collections.abc"}:
            return stringify_annotation(value, "smart")
    return None


def _clean_signature(
    app: Any,
    what: str,
    name: str,
    obj: object,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None]:
    """
    Show a zope interface in a signature by its name, not its repr, and a
    private type alias of ours by what it stands for.
    """

    def clean(text: str | None) -> str | None:
        if text is None:
            return None
        text = _INTERFACE_REPR.sub(r"\1", text)
        return _WORD.sub(lambda word: _alias_text(obj, word[0]) or word[0], text)

    return clean(signature), clean(return_annotation)


def _public_bases(
    app: Any, name: str, obj: object, options: Any, bases: list[type]
) -> None:
    """
    List a private base class of ours by its own bases (it is not
    documented), and leave ``object`` out.
    """
    bases[:] = [base for base in bases if base is not object]
    index = 0
    while index < len(bases):
        base = bases[index]
        module = base.__module__
        if module.startswith("twisted_client") and "._" in module:
            bases[index : index + 1] = [b for b in base.__bases__ if b not in bases]
        else:
            index += 1


def _qt_signal_docs(
    app: Any, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """A Qt signal attribute: say so, instead of the binding's own help text."""
    if type(obj).__name__ in {"pyqtSignal", "Signal"}:
        lines[:] = ["A Qt signal (the class's docstring says what it carries)."]


def _napoleon(
    app: Any, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """
    Napoleon, without reading an attribute's first words as its type: our
    attribute docstrings say ``Summary: detail`` (the types are in the
    annotations), which napoleon would show as ``:type: Summary``.
    """
    from sphinx.ext.napoleon import _process_docstring

    if what in {"attribute", "data", "property"}:
        name = ""  # napoleon looks for the inline type only with a name
    _process_docstring(app, what, name, obj, options, lines)


def setup(app: Any) -> None:
    """Register the hooks above."""
    from sphinx.ext.napoleon import _process_docstring

    for listener in list(app.events.listeners["autodoc-process-docstring"]):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon)
    app.connect("builder-inited", _reexported_attribute_docs)
    app.connect("missing-reference", _resolve_short_names)
    app.connect("autodoc-process-signature", _clean_signature)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-docstring", _qt_signal_docs)
