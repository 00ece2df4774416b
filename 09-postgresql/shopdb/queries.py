"""The query demos: each one is a question a shop asks, answered with one SQL feature.

Every date is taken in UTC (`AT TIME ZONE 'UTC'`) so the answer does not depend on the
session's TimeZone setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    why: str
    sql: str


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[object, ...]]


QUERIES: dict[str, Demo] = {
    d.name: d
    for d in (
        Demo(
            "category_tree",
            "Recursive CTE: the category tree with depth and path",
            "A tree of unknown depth, walked by a query that joins its own result.",
            """
WITH RECURSIVE tree AS (
    SELECT id, name, 0 AS depth, name AS path FROM categories WHERE parent_id IS NULL
    UNION ALL
    SELECT c.id, c.name, t.depth + 1, t.path || ' > ' || c.name
    FROM categories c JOIN tree t ON c.parent_id = t.id
)
-- COLLATE "C": byte order, so ' > ' sorts before letters and children follow their parent.
SELECT id, depth, path FROM tree ORDER BY path COLLATE "C"
""",
        ),
        Demo(
            "running_total",
            "Window SUM: each customer's running total, order by order",
            "PARTITION BY restarts the sum per customer; ORDER BY makes it cumulative.",
            """
SELECT customer_id, id AS order_id, (ordered_at AT TIME ZONE 'UTC')::date AS day, total_cents,
       sum(total_cents) OVER (PARTITION BY customer_id ORDER BY ordered_at) AS running_cents
FROM orders
WHERE customer_id IN (1, 2) AND status <> 'cancelled'
ORDER BY customer_id, ordered_at
""",
        ),
        Demo(
            "top_products",
            "rank() in a group: the two best sellers of every category",
            "A window ranks rows inside each partition without collapsing them like GROUP BY.",
            """
WITH revenue AS (
    SELECT p.id, p.category_id, p.name, sum(i.quantity * i.unit_price_cents) AS revenue_cents
    FROM order_items i
    JOIN orders o ON o.id = i.order_id AND o.status <> 'cancelled'
    JOIN products p ON p.id = i.product_id
    GROUP BY p.id
), ranked AS (
    SELECT *, rank() OVER (PARTITION BY category_id ORDER BY revenue_cents DESC) AS rank
    FROM revenue
)
SELECT c.name AS category, r.name AS product, r.revenue_cents, r.rank
FROM ranked r JOIN categories c ON c.id = r.category_id
WHERE r.rank <= 2
ORDER BY r.category_id, r.rank, r.name
""",
        ),
        Demo(
            "monthly_revenue",
            "lag() and a moving average: revenue month over month",
            "lag() reads the previous row; a ROWS frame averages the last three months.",
            """
WITH monthly AS (
    SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC')::date AS month,
           sum(total_cents) AS revenue_cents
    FROM orders WHERE status <> 'cancelled'
    GROUP BY 1
)
SELECT month, revenue_cents,
       revenue_cents - lag(revenue_cents) OVER w AS change_cents,
       round(avg(revenue_cents) OVER (w ROWS BETWEEN 2 PRECEDING AND CURRENT ROW))
           AS moving_avg_3
FROM monthly
WINDOW w AS (ORDER BY month)
ORDER BY month
""",
        ),
        Demo(
            "latest_orders",
            "LATERAL: the two latest orders of each customer (top-N per group)",
            "The subquery runs once per customer and may use its columns, so LIMIT applies "
            "per customer - with the right index, that is a few index probes.",
            """
SELECT c.id AS customer_id, c.name, o.id AS order_id,
       (o.ordered_at AT TIME ZONE 'UTC')::date AS day, o.total_cents
FROM customers c
CROSS JOIN LATERAL (
    SELECT id, ordered_at, total_cents FROM orders
    WHERE customer_id = c.id ORDER BY ordered_at DESC LIMIT 2
) o
WHERE c.id <= 3
ORDER BY c.id, o.ordered_at DESC
""",
        ),
        Demo(
            "cancellations",
            "FILTER: several conditional counts in one pass",
            "count(*) FILTER (WHERE ...) replaces one subquery (and one scan) per condition.",
            """
SELECT date_trunc('month', ordered_at AT TIME ZONE 'UTC')::date AS month,
       count(*) AS orders,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       round(100.0 * count(*) FILTER (WHERE status = 'cancelled') / count(*), 1)
           AS cancelled_pct
FROM orders
GROUP BY 1
ORDER BY 1
""",
        ),
        Demo(
            "sales_rollup",
            "ROLLUP: totals per country and status, subtotals and a grand total",
            "ROLLUP (a, b) is GROUPING SETS ((a, b), (a), ()): three GROUP BYs in one scan. "
            "NULL marks the rolled-up column.",
            """
SELECT cu.country, o.status, count(*) AS orders, sum(o.total_cents) AS total_cents
FROM orders o JOIN customers cu ON cu.id = o.customer_id
GROUP BY ROLLUP (cu.country, o.status)
ORDER BY cu.country NULLS LAST, o.status NULLS LAST
""",
        ),
        Demo(
            "big_spenders",
            "CTE: customers who spend more than the average customer",
            "A named intermediate result, used twice: once per row, once for the average.",
            """
WITH spend AS (
    SELECT customer_id, sum(total_cents) AS spent_cents
    FROM orders WHERE status <> 'cancelled'
    GROUP BY customer_id
)
SELECT c.id, c.name, s.spent_cents
FROM spend s JOIN customers c ON c.id = s.customer_id
WHERE s.spent_cents > (SELECT avg(spent_cents) FROM spend)
ORDER BY s.spent_cents DESC, c.id
LIMIT 5
""",
        ),
    )
}


def run(conn: psycopg.Connection, demo: Demo) -> Result:
    with conn.cursor() as cur:
        cur.execute(demo.sql)  # a constant from this module
        columns = [d.name for d in cur.description or []]
        return Result(columns, list(cur.fetchall()))
