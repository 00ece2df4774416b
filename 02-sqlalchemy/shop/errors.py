"""Domain errors: what callers catch instead of driver exceptions."""

from __future__ import annotations


class ShopError(Exception):
    """Base for every error the shop's domain raises on purpose."""


class EmailTaken(ShopError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a customer with email {email!r} already exists")
        self.email = email


class UnknownCustomer(ShopError):
    def __init__(self, email: str) -> None:
        super().__init__(f"no customer with email {email!r}")
        self.email = email


class UnknownProducts(ShopError):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"unknown product sku(s): {', '.join(sorted(skus))}")
        self.skus = sorted(skus)


class OutOfStock(ShopError):
    def __init__(self, sku: str, wanted: int, available: int) -> None:
        super().__init__(f"{sku}: wanted {wanted}, only {available} in stock")
        self.sku, self.wanted, self.available = sku, wanted, available


class EmptyOrder(ShopError):
    def __init__(self) -> None:
        super().__init__("an order needs one or more lines, each with a positive quantity")
