"""The objects the permissions guard: orders, each owned by one user."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from auth.db import Order


@dataclass(frozen=True)
class OrderView:
    id: int
    owner_id: int
    item: str
    quantity: int


def _view(row: Order) -> OrderView:
    return OrderView(row.id, row.owner_id, row.item, row.quantity)


class Orders:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, owner_id: int, item: str, quantity: int) -> OrderView:
        with self.sessions.begin() as db:
            row = Order(owner_id=owner_id, item=item, quantity=quantity)
            db.add(row)
            db.flush()
            return _view(row)

    def get(self, order_id: int) -> OrderView | None:
        with self.sessions() as db:
            row = db.get(Order, order_id)
            return _view(row) if row else None

    def list(self, owner_id: int | None) -> list[OrderView]:
        """An owner's orders, or every order when ``owner_id`` is None."""
        query = select(Order).order_by(Order.id)
        if owner_id is not None:
            query = query.where(Order.owner_id == owner_id)
        with self.sessions() as db:
            return [_view(r) for r in db.scalars(query)]

    def delete(self, order_id: int) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(Order).where(Order.id == order_id))
