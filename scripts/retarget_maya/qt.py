"""Qt through one import: PySide6 (Maya 2025+) or PySide2 (Maya 2022-2024). The code is written
against the PySide6 API; the few names PySide2 keeps elsewhere are aliased here."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, cast

if TYPE_CHECKING:
    import shiboken6 as shiboken
    from PySide6 import QtCore, QtGui, QtWidgets
else:
    try:
        import shiboken6 as shiboken
        from PySide6 import QtCore, QtGui, QtWidgets
    except ImportError:
        import shiboken2 as shiboken
        from PySide2 import QtCore, QtGui, QtWidgets

        # PySide6 moved QAction/QShortcut to QtGui and names the slot decorator the same in both.
        QtGui.QAction = QtWidgets.QAction
        QtGui.QShortcut = QtWidgets.QShortcut

QT_BINDING = "PySide6" if QtCore.__name__.startswith("PySide6") else "PySide2"

__all__ = ["QtCore", "QtGui", "QtWidgets", "QT_BINDING", "maya_main_window"]


def maya_main_window() -> Optional[QtWidgets.QWidget]:
    """Maya's main window as a QWidget (None outside Maya's UI: batch, tests)."""
    try:
        from maya import OpenMayaUI
    except ImportError:
        return None
    pointer = OpenMayaUI.MQtUtil.mainWindow()
    if pointer is None:
        return None
    return cast(QtWidgets.QWidget, shiboken.wrapInstance(int(pointer), QtWidgets.QWidget))
