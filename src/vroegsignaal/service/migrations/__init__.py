"""Alembic migrations of the service database (run with ``vroegsignaal db upgrade``)."""
