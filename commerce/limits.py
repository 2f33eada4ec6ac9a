"""Every numeric limit of the shop's domain, in one place, with the reason."""

from __future__ import annotations

ORDER_TAGS_MAX = 10
ORDER_NOTE_MAX = 200
ORDER_CUSTOM_DISCOUNTS_MAX = 5
ORDER_LINES_MAX = 100
LINE_QUANTITY_MAX = 9_999
CUSTOMER_ADDRESSES_MAX = 5
CUSTOMER_TAGS_MAX = 30
CUSTOMER_NOTE_MAX = 2_000
TAG_LENGTH_MAX = 20
CUSTOM_ITEM_NAME_MAX = 60
