"""What a person can see on a window, checked widget by widget (the layout check).

For every visible widget of a window: a label at least as wide (and tall) as its text needs,
or an ``ElidedLabel`` showing at least a few characters of it; no two visible siblings
overlapping; no horizontal scrollbar; text at least 16 px (figures larger); a label's text
against its own background at least 4.5:1 (WCAG AA). Colours and sizes are read from the
widgets as styled by the theme, so a change of ``theme.py`` or a ``.qss`` is checked too.
"""

from __future__ import annotations

import itertools

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontInfo, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QLabel,
    QWidget,
)

from console.ui.widgets.elided_label import ElidedLabel
from console.ui.widgets.figure_label import FigureLabel

MIN_TEXT_PX = 16
MIN_FIGURE_PX = 32  # the big figures (kpiValue): read from across the studio
MIN_CONTRAST = 4.5
ELIDED_SHOWS = 4  # an eliding label shows at least this many characters (or all of it)
FIGURES = frozenset({"kpiValue"})
TIME_UNITS = ("分钟", "秒")  # a bottom axis labelled so counts time since the start
NEGATIVE_TIME_SLACK = 0.05  # of the range: a view's own padding left of zero is fine
DIRECT = Qt.FindChildOption.FindDirectChildrenOnly


def describe(widget: QWidget) -> str:
    """``LiveWindow > panel > QLabel#panelTitle 'text'``: enough to find the widget."""
    names = []
    node: QWidget | None = widget
    while node is not None and len(names) < 4:
        name = node.objectName()
        names.append(f"{type(node).__name__}#{name}" if name else type(node).__name__)
        node = node.parentWidget()
    text = _text(widget)
    return " < ".join(names) + (f" {text[:30]!r}" if text else "")


def _text(widget: QWidget) -> str:
    if isinstance(widget, QLabel | FigureLabel | QAbstractButton):
        return str(widget.text())
    return ""


def _lines(text: str) -> list[str]:
    return text.split("\n")


def text_width(metrics: QFontMetrics, text: str) -> int:
    return max(metrics.horizontalAdvance(line) for line in _lines(text))


def shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and widget.height() > 0


def visible_widgets(window: QWidget) -> list[QWidget]:
    """The window's visible widgets, not those inside a scroll area or a chart (their parts
    are laid out by the view: rows are checked by the views' own tests)."""
    found: list[QWidget] = []

    def walk(parent: QWidget) -> None:
        for child in parent.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if child.isWindow() or not shown(child):
                continue
            found.append(child)
            if not isinstance(child, QAbstractScrollArea):
                walk(child)

    walk(window)
    return found


def label_room(label: QLabel) -> tuple[int, int]:
    rect = label.contentsRect()
    inset = 2 * label.margin() + max(0, label.indent())
    return rect.width() - inset, rect.height() - 2 * label.margin()


def check_label(label: QLabel) -> list[str]:
    text = label.text()
    if not text or label.textFormat() == Qt.TextFormat.RichText or text.lstrip().startswith("<"):
        return []
    metrics = label.fontMetrics()
    width, height = label_room(label)
    problems = []
    if isinstance(label, ElidedLabel):
        needed = min(
            text_width(metrics, text), metrics.horizontalAdvance(text[:ELIDED_SHOWS] + "…")
        )
        if width < needed:
            problems.append(f"eliding label too narrow to show its text: {width} < {needed} px")
    elif label.wordWrap():
        wanted = label.heightForWidth(label.width())
        if wanted > label.height():
            problems.append(f"wrapped label cut: {label.height()} < {wanted} px high")
    elif width < text_width(metrics, text):
        problems.append(f"label narrower than its text: {width} < {text_width(metrics, text)} px")
    needed = metrics.boundingRect(0, 0, 100_000, 100_000, 0, text).height()  # as QLabel's
    if not label.wordWrap() and height < needed - 2:
        problems.append(f"label lower than its text: {height} < {needed} px")
    return problems


def check_figure(figure: FigureLabel) -> list[str]:
    metrics = figure.fontMetrics()
    needed = text_width(metrics, figure.text()) if figure.text() else 0
    problems = []
    if figure.width() < needed:
        problems.append(f"figure cut: {figure.width()} < {needed} px")
    if figure.height() < metrics.height() - 2:
        problems.append(f"figure lower than its text: {figure.height()} < {metrics.height()} px")
    return problems


def check_button(button: QAbstractButton) -> list[str]:
    text = button.text().replace("&", "")
    needed = text_width(button.fontMetrics(), text) if text else 0
    if button.width() < needed:
        return [f"button narrower than its text: {button.width()} < {needed} px"]
    return []


def pixel_size(widget: QWidget) -> int:
    return QFontInfo(widget.font()).pixelSize()


def check_font(widget: QWidget) -> list[str]:
    """Text widgets by their font; item views by the font their rows are drawn in."""
    if isinstance(widget, QAbstractItemView):
        delegate_font = getattr(widget.itemDelegate(), "text_font", None)
        size = QFontInfo(delegate_font).pixelSize() if delegate_font else pixel_size(widget)
    elif _text(widget):
        size = pixel_size(widget)
    else:
        return []
    least = MIN_FIGURE_PX if widget.objectName() in FIGURES else MIN_TEXT_PX
    return [f"text {size} px < {least} px"] if size < least else []


def luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def background_of(widget: QWidget) -> QColor:
    """The first opaque background at or above ``widget`` (the theme paints transparent
    backgrounds inside panels, so the panel's colour shows through)."""
    node: QWidget | None = widget
    while node is not None:
        color = node.palette().color(QPalette.ColorRole.Window)
        if color.alpha() == 255 and (
            node.autoFillBackground()
            or node.testAttribute(Qt.WidgetAttribute.WA_StyledBackground)
            or node.isWindow()
            or node.objectName()
        ):
            return color
        node = node.parentWidget()
    return QColor("#000000")


def check_contrast(widget: QWidget) -> list[str]:
    if not _text(widget) or isinstance(widget, QAbstractButton):
        return []
    foreground = widget.palette().color(widget.foregroundRole())
    ratio = contrast(foreground, background_of(widget))
    if ratio < MIN_CONTRAST:
        return [f"contrast {ratio:.2f}:1 < {MIN_CONTRAST}:1 ({foreground.name()})"]
    return []


def check_overlaps(parent: QWidget) -> list[str]:
    if isinstance(parent, QAbstractScrollArea):
        return []
    children = [
        c for c in parent.findChildren(QWidget, options=DIRECT) if not c.isWindow() and shown(c)
    ]
    return [
        f"{describe(a)} overlaps {describe(b)}"
        for a, b in itertools.combinations(children, 2)
        if a.geometry().intersects(b.geometry())
    ]


def check_scrollbars(view: QAbstractScrollArea) -> list[str]:
    bar = view.horizontalScrollBar()
    return ["horizontal scrollbar shown"] if bar is not None and bar.isVisible() else []


def plot_items(chart: QWidget) -> list[pg.PlotItem]:
    """The plots a chart widget draws: one (``PlotWidget``) or several (a layout)."""
    if isinstance(chart, pg.PlotWidget):
        return [chart.getPlotItem()]
    if isinstance(chart, pg.GraphicsLayoutWidget):
        return [item for item in chart.ci.items if isinstance(item, pg.PlotItem)]
    return []


def check_axes(plot: pg.PlotItem) -> list[str]:
    """Tick labels at least 16 px (the app's font when the axis sets none); a time axis
    (minutes, seconds) that does not run into negative time."""
    problems = []
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        if not axis.isVisible():
            continue
        font = axis.style.get("tickFont") or QApplication.font()
        if QFontInfo(font).pixelSize() < MIN_TEXT_PX:
            problems.append(f"{side} axis ticks {QFontInfo(font).pixelSize()} px")
    label = plot.getAxis("bottom").labelText or ""
    (left, right), _ = plot.viewRange()
    if any(unit in label for unit in TIME_UNITS) and left < -NEGATIVE_TIME_SLACK * (right - left):
        problems.append(f"time axis {label!r} starts at {left:.2f} (negative time)")
    return problems


def chart_texts(plot: pg.PlotItem) -> list[pg.TextItem]:
    """Texts drawn in a plot: its text items and the labels of its lines (markers)."""
    texts = [item for item in plot.items if isinstance(item, pg.TextItem)]
    texts += [
        child
        for item in plot.items
        if isinstance(item, pg.InfiniteLine)
        for child in item.childItems()
        if isinstance(child, pg.TextItem)
    ]
    return [t for t in texts if t.isVisible() and t.toPlainText().strip()]


def check_chart_texts(plot: pg.PlotItem) -> list[str]:
    """Text drawn in a chart (a bar's count, a direct label, a marker's name) inside the
    plot, none on another."""
    view = plot.getViewBox()
    inside = view.sceneBoundingRect().adjusted(-1, -1, 1, 1)
    texts = chart_texts(plot)
    problems = [
        f"chart text {t.toPlainText()!r} outside the plot: {_box(_glyphs(t))} not in {_box(inside)}"
        for t in texts
        if not inside.contains(_glyphs(t))
    ]
    problems += [
        f"chart texts {a.toPlainText()!r} and {b.toPlainText()!r} overlap"
        for a, b in itertools.combinations(texts, 2)
        if _glyphs(a).intersects(_glyphs(b))
    ]
    return problems


def check_chart(chart: QWidget, axes: bool = True) -> list[str]:
    """Every plot of a chart widget: its axes (``axes``) and the texts drawn in it."""
    problems = []
    for plot in plot_items(chart):
        if axes:
            problems += check_axes(plot)
        problems += check_chart_texts(plot)
    return problems


def _box(rect: QRectF) -> str:
    return f"({rect.left():.0f}, {rect.top():.0f})-({rect.right():.0f}, {rect.bottom():.0f})"


def _glyphs(item: pg.TextItem) -> QRectF:
    """A text item's box without the empty margin its document keeps around the text."""
    margin = item.textItem.document().documentMargin()
    return item.sceneBoundingRect().adjusted(margin, margin, -margin, -margin)


def check_window(window: QWidget, skip_axes: tuple[type[QWidget], ...] = ()) -> list[str]:
    """Every problem a person would see, one line each (an empty list: all is well).
    ``skip_axes``: widget types whose charts' axis fonts are not checked (see the test)."""
    problems = [f"{window.objectName() or 'window'}: {p}" for p in check_overlaps(window)]
    for widget in visible_widgets(window):
        found: list[str] = []
        if isinstance(widget, QLabel):
            found += check_label(widget)
        elif isinstance(widget, FigureLabel):
            found += check_figure(widget)
        elif isinstance(widget, QAbstractButton):
            found += check_button(widget)
        if isinstance(widget, pg.PlotWidget | pg.GraphicsLayoutWidget):
            axes = not any(isinstance(a, skip_axes) for a in _ancestry(widget, window))
            found += check_chart(widget, axes)
        elif isinstance(widget, QAbstractScrollArea):
            found += check_scrollbars(widget)
        found += check_font(widget) + check_contrast(widget)
        problems += [f"{describe(widget)}: {p}" for p in found]
        problems += check_overlaps(widget)
    return problems


def _ancestry(widget: QWidget, top: QWidget) -> list[QWidget]:
    chain = []
    node: QWidget | None = widget
    while node is not None and node is not top:
        chain.append(node)
        node = node.parentWidget()
    return chain
