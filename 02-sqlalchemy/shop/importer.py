"""Import a batch of products, one SAVEPOINT per row, keeping every rejected row and why."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shop.models import Product

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    # (sku, reason) for every row the database refused: nothing disappears silently.
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _reason(exc: IntegrityError) -> str:
    # The constraint names come from the naming convention, so they are the same on both
    # backends and readable in a report ("uq_shop_products_sku", "ck_..._price_not_negative").
    text = str(exc.orig)
    for marker in ("uq_shop_products_sku", "price_not_negative", "stock_not_negative"):
        if marker in text:
            return marker
    if "UNIQUE" in text.upper():  # SQLite names the column, not the constraint
        return "uq_shop_products_sku"
    return text.splitlines()[0]


def import_products(session: Session, rows: Iterable[Mapping[str, Any]]) -> ImportReport:
    """Add each row inside its own SAVEPOINT.

    On PostgreSQL a failed statement aborts the whole transaction ("current transaction is
    aborted"); rolling back to the savepoint undoes just that row and lets the batch go on.
    The caller commits (or not) the rows that made it.
    """
    report = ImportReport()
    for row in rows:
        try:
            with session.begin_nested():
                session.add(Product(**row))
        except IntegrityError as exc:
            reason = _reason(exc)
            report.rejected.append((row["sku"], reason))
            log.warning("rejected product %s: %s", row["sku"], reason)
        else:
            report.imported.append(row["sku"])
    return report
