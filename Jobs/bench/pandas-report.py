#!/usr/bin/env python3
"""The obvious alternative to `ballast bench report`, for comparison only:
pandas reads the fills with their orders from PostgreSQL, computes per-route
arrival slippage (qty-weighted mean, p50, p95) and fees, and XlsxWriter
writes a Fills sheet and a Routes sheet with number formats, plus fills.csv.

    BALLAST_BENCH_KEEP=1 ballast bench report --fills 100000   # keeps its schema
    python3 Jobs/bench/pandas-report.py "$BALLAST_DATABASE_URL" ballast_bench_<pid> /tmp/out

Needs: pip install pandas xlsxwriter psycopg2-binary
"""
import os
import sys
import time

import pandas as pd
import psycopg2

url, schema, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
started = time.perf_counter()
phases = {}

t = time.perf_counter()
with psycopg2.connect(url, options=f"-csearch_path={schema}") as conn:
    fills = pd.read_sql(
        """
        SELECT f.executed_at, f.venue_id, f.account_id, f.symbol, f.side, f.price, f.qty, f.quote_qty,
               f.commission, f.commission_asset, f.is_maker, f.trade_id, f.order_id, o.client_order_id,
               o.style, o.arrival_mid
        FROM fills f
        LEFT JOIN orders o ON o.venue_id = f.venue_id AND o.symbol = f.symbol AND o.venue_order_id = f.order_id
        ORDER BY f.executed_at, f.venue_id, f.trade_id
        """,
        conn,
    )
phases["read"] = time.perf_counter() - t

t = time.perf_counter()
for column in ["price", "qty", "quote_qty", "commission", "arrival_mid"]:
    fills[column] = fills[column].astype(float)
fills["executed_at"] = fills["executed_at"].dt.tz_localize(None)
sign = fills["side"].map({"buy": 1.0, "sell": -1.0})
fills["slippage_bps"] = sign * (fills["price"] - fills["arrival_mid"]) / fills["arrival_mid"] * 10_000
fills["weighted"] = fills["slippage_bps"] * fills["qty"]
routes = fills.groupby(["venue_id", "symbol", "style"]).agg(
    fills=("trade_id", "count"),
    orders=("order_id", "nunique"),
    qty=("qty", "sum"),
    notional=("quote_qty", "sum"),
    weighted=("weighted", "sum"),
    p50=("slippage_bps", "median"),
    p95=("slippage_bps", lambda s: s.quantile(0.95)),
    fees=("commission", "sum"),
).reset_index()
routes["slippage_mean_bps"] = routes["weighted"] / routes["qty"]
routes = routes.drop(columns=["weighted"])
phases["tca"] = time.perf_counter() - t

t = time.perf_counter()
fills.drop(columns=["weighted", "slippage_bps"]).to_csv(f"{out}/fills.csv", index=False)
phases["csv"] = time.perf_counter() - t

t = time.perf_counter()
with pd.ExcelWriter(f"{out}/audit.xlsx", engine="xlsxwriter", datetime_format="yyyy-mm-dd hh:mm:ss") as writer:
    sheet_fills = fills.drop(columns=["weighted", "slippage_bps"])
    sheet_fills.to_excel(writer, sheet_name="Fills", index=False)
    routes.to_excel(writer, sheet_name="Routes", index=False)
    book = writer.book
    amount = book.add_format({"num_format": "#,##0.00000000"})
    bps = book.add_format({"num_format": "0.00"})
    ws = writer.sheets["Fills"]
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(sheet_fills), len(sheet_fills.columns) - 1)
    ws.set_column(0, 0, 22)
    ws.set_column(5, 8, 16, amount)
    wr = writer.sheets["Routes"]
    wr.freeze_panes(1, 0)
    wr.set_column(3, 10, 16, bps)
phases["xlsx"] = time.perf_counter() - t

total = time.perf_counter() - started
print(f"pandas + XlsxWriter: {len(fills)} fills, {len(routes)} routes")
for name, seconds in phases.items():
    print(f"  {name:5}: {seconds:8.2f} s")
print(f"  total: {total:8.2f} s")
