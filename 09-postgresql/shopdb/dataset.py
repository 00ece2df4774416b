"""A deterministic shop: the same (scale, seed) always gives the same rows, so every reader
sees the same plans and numbers, and the tests can reason about sizes."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from psycopg.types.range import Range

Row = tuple[object, ...]

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)  # two years of orders, inserted in time order (what BRIN needs)

# One fixed category tree: (id, parent_id, name). Products hang off the leaves.
CATEGORIES: tuple[tuple[int, int | None, str], ...] = (
    (1, None, "Electronics"),
    (2, 1, "Audio"),
    (3, 1, "Computers"),
    (4, 1, "Phones"),
    (5, 2, "Headphones"),
    (6, 2, "Speakers"),
    (7, 3, "Laptops"),
    (8, 3, "Accessories"),
    (9, None, "Home"),
    (10, 9, "Kitchen"),
    (11, 9, "Garden"),
    (12, 10, "Coffee"),
)
LEAVES = (4, 5, 6, 7, 8, 11, 12)
NOUNS = {
    4: "Phone",
    5: "Headphones",
    6: "Speaker",
    7: "Laptop",
    8: "Cable",
    11: "Hose",
    12: "Grinder",
}
ADJECTIVES = ("Compact", "Ultra", "Quiet", "Smart", "Classic", "Rugged", "Travel", "Pro")
BRANDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli")
COLORS = ("black", "white", "red", "blue", "green", "silver")
TAGS = ("eco", "gift", "bestseller", "new", "refurbished", "bundle")
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim")
LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson")
COUNTRIES = ("DE", "FR", "NL", "PL", "SE", "ES", "IT", "US")
# Skewed on purpose: 'delivered' is too common for an index to help, 'pending' is rare.
STATUSES = (("delivered", 85), ("shipped", 8), ("pending", 5), ("cancelled", 2))
PRAISE = (
    "battery lasts for days",
    "sound is crisp",
    "fits in a pocket",
    "setup took a minute",
    "looks great on the desk",
    "worth every cent",
    "shipping was fast",
    "sturdy build",
)
COMPLAINTS = (
    "stopped charging",
    "arrived scratched",
    "too noisy",
    "the manual is confusing",
    "the strap broke",
    "runs hot",
    "support never answered",
    "smaller than pictured",
)


@dataclass
class Dataset:
    """Rows per table, in the column order of `schema.COLUMNS`."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def count(self, table: str) -> int:
        return len(self.tables.get(table, []))


def generate(scale: int = 1, seed: int = 7) -> Dataset:
    """Build the shop in memory. Scale 1: 500 customers, 500 products, 5,000 orders."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    rng = random.Random(seed)
    data = Dataset()
    data.tables["categories"] = list(CATEGORIES)
    data.tables["customers"] = _customers(rng, 500 * scale)
    products = _products(rng, 500 * scale)
    data.tables["products"] = products
    orders, items = _orders(rng, 5000 * scale, len(data.tables["customers"]), products)
    data.tables["orders"], data.tables["order_items"] = orders, items
    data.tables["reviews"] = _reviews(rng, 1000 * scale, len(products), 500 * scale)
    rooms = 5 * scale
    data.tables["rooms"] = [(i, f"Room {i}") for i in range(1, rooms + 1)]
    data.tables["bookings"] = _bookings(rng, rooms)
    return data


def _customers(rng: random.Random, n: int) -> list[Row]:
    rows: list[Row] = []
    for i in range(1, n + 1):
        name, email = customer_identity(i)
        joined = START - timedelta(days=rng.randrange(1, 900))
        rows.append((i, email, name, rng.choice(COUNTRIES), joined))
    return rows


def customer_identity(i: int) -> tuple[str, str]:
    """Name and email of customer `i`, cycling through the name lists: predictable, so a
    demo can look up customer 3 (Alan Turing) at any scale."""
    first, last = FIRST[(i - 1) % len(FIRST)], LAST[(i - 1) % len(LAST)]
    # Mixed case on purpose: the expression-index demo looks emails up by lower(email).
    return f"{first} {last}", f"{first}.{last}{i}@Example.test"


def _products(rng: random.Random, n: int) -> list[Row]:
    rows: list[Row] = []
    for i in range(1, n + 1):
        category = rng.choice(LEAVES)
        attributes = {
            "brand": rng.choice(BRANDS),
            "color": rng.choice(COLORS),
            "specs": {"weight_g": rng.randrange(50, 3000), "wireless": rng.random() < 0.4},
            "tags": sorted(rng.sample(TAGS, 2)),
        }
        name = f"{rng.choice(ADJECTIVES)} {NOUNS[category]} {i}"
        price = rng.randrange(500, 200_000)
        rows.append((i, category, name, price, json.dumps(attributes)))
    return rows


def _orders(
    rng: random.Random, n: int, customers: int, products: list[Row]
) -> tuple[list[Row], list[Row]]:
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    step = SPAN / n
    orders: list[Row] = []
    items: list[Row] = []
    for i in range(1, n + 1):
        # Monotonic in id, with jitter inside the step: time-ordered like a real orders table.
        at = START + step * (i - 1) + step * rng.random()
        total = 0
        for product in rng.sample(products, rng.randint(1, 4)):
            quantity = rng.randint(1, 3)
            price = int(str(product[3]))
            items.append((i, product[0], quantity, price))
            total += quantity * price
        status = rng.choices(statuses, weights)[0]
        orders.append((i, rng.randint(1, customers), status, at, total))
    return orders, items


def _reviews(rng: random.Random, n: int, products: int, customers: int) -> list[Row]:
    rows: list[Row] = []
    for i in range(1, n + 1):
        rating = rng.randint(1, 5)
        words = rng.sample(PRAISE if rating >= 3 else COMPLAINTS, 2)
        body = f"{words[0].capitalize()} and {words[1]}."
        rows.append((i, rng.randint(1, products), rng.randint(1, customers), rating, body))
    return rows


def _bookings(rng: random.Random, rooms: int) -> list[Row]:
    """Back-to-back stays per room: adjacent half-open ranges [a, b) never overlap."""
    rows: list[Row] = []
    for room in range(1, rooms + 1):
        at = START + timedelta(hours=rng.randrange(0, 48))
        for _ in range(40):
            end = at + timedelta(hours=rng.randrange(12, 96))
            rows.append((room, f"guest-{room}-{len(rows)}", Range(at, end, "[)")))
            at = end + timedelta(hours=rng.randrange(0, 24))
    return rows
