"""The state store: revisions, plans, apply runs, inventories, drift, cluster status and events.

SQLAlchemy Core over SQLite (WAL) by default, PostgreSQL-ready; see ``stores`` for the entry point
and docs/adr/0006-state-store.md for the decisions.
"""
