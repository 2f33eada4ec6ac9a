"""SQL storage for the shop: declarative base, engine factory and unit of work."""
