"""Config of the storefront popup, per channel, plus the shop origins allowed to
call the binding-code API from the browser.

Messenger has no ``button_text``: the button opens Messenger under the platform's
own wording ("Send to Messenger"), which a shop may not restyle.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MessengerPopup(Strict):
    enabled: bool = True
    show_after_adds: int = Field(default=2, ge=1, le=100)
    max_per_day: int = Field(default=2, ge=0, le=20)
    title: str = Field(default="在 Messenger 接收購物車", min_length=1, max_length=40)
    description: str = Field(
        default="傳送代碼給我們的粉絲專頁，之後可在 Messenger 查看購物車與訂單。",
        min_length=1, max_length=200)


class LinePopup(MessengerPopup):
    title: str = Field(default="加入 LINE 好友，購物車不遺失", min_length=1, max_length=40)
    description: str = Field(
        default="傳送代碼給我們的 LINE 官方帳號，購物車與訂單通知會傳到 LINE。",
        min_length=1, max_length=200)
    button_text: str = Field(default="用 LINE 接收通知", min_length=1, max_length=20)


class WidgetSettings(Strict):
    line: LinePopup = LinePopup()
    messenger: MessengerPopup = MessengerPopup()
    allowed_origins: tuple[str, ...] = ()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        """Exactly what browsers send in ``Origin``: scheme, host, optional port."""
        for origin in origins:
            parts = urlsplit(origin)
            if (parts.scheme not in ("http", "https") or not parts.netloc
                    or parts.path or parts.query or parts.fragment):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example")
        return origins
