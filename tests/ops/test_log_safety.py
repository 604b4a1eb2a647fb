"""Errors that reach the logs (and jobs' last_error) carry no text people wrote and no token."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.persistence.db import Database


async def test_a_failed_statement_keeps_its_parameters_out_of_the_error(db):
    written = "What I really think of my manager"
    with pytest.raises(sa.exc.DBAPIError) as caught:
        async with db.transaction() as conn:
            await conn.execute(sa.text("INSERT INTO answers (id, texts) VALUES (:id, :texts)"),
                               {"id": "not a number", "texts": written})
    assert "INSERT INTO answers" in str(caught.value)  # the statement is still there to debug with
    assert written not in str(caught.value)
    assert written not in repr(caught.value)
