"""The platform links in the live window's header: "抖音 ● 已连接 · 延迟 0.4s  微信小店 ○ 断开"."""

from __future__ import annotations

from collections.abc import Mapping

from console.domain.platform import AdapterHealth
from console.ui.widgets.elided_label import ElidedLabel

SEPARATOR = "　"


class AdapterLinks(ElidedLabel):
    """Each adapter's link as it last reported, in one line that elides (hidden with none).

    The ``down`` property is true while some link is down, for the stylesheet's warning."""

    def __init__(self) -> None:
        super().__init__("")
        self.setObjectName("adapterLinks")
        self.setVisible(False)
        self.setProperty("down", False)

    def show_links(self, adapters: Mapping[str, AdapterHealth]) -> None:
        text = SEPARATOR.join(adapters[source].label() for source in sorted(adapters))
        down = any(not health.connected for health in adapters.values())
        if text != self.text():
            self.setText(text)
            self.setToolTip(text.replace(SEPARATOR, "\n"))
        if down != self.property("down"):
            self.setProperty("down", down)
            self.style().unpolish(self)
            self.style().polish(self)
        self.setVisible(bool(adapters))
