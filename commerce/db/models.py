"""Imports every mapped module so ``Base.metadata`` knows all tables (Alembic, tests)."""

from commerce import catalog, conversations, customers, orders, records  # noqa: F401
from commerce.db.base import Base

metadata = Base.metadata
