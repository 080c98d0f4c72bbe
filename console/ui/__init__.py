"""All Qt code: the live window, its models and widgets, start-up with qasync."""

import os

# qasync picks its Qt binding from QT_API; PyQt would be chosen if it happened to be installed.
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
