"""Alembic migrations of the service database (run by ``remission db upgrade`` and on the
first start of ``remission serve``; see :func:`remission.service.db.upgrade`)."""
