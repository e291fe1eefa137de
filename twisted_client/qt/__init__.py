"""
Run Twisted inside a Qt application.

`install_reactor` makes the Twisted reactor run inside Qt's event loop.
"""

from ._install import WrongReactorError, install_reactor

__all__ = ["WrongReactorError", "install_reactor"]
