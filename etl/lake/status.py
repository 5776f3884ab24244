"""What the warehouse holds, for `python -m etl status` and the dashboard's Data page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.lake.warehouse import WarehousePaths, connect_readonly


def collect(link: Path) -> dict[str, Any]:
    """Forces x sources with months and rows, last load, suspect months, quarantined rows."""
    con = connect_readonly(link)
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        sources = []
        for row in con.execute(
            """SELECT source, force_id, count(*) AS months, min(month), max(month),
                      sum(crimes), sum(asb), sum(unassigned), sum(duplicates),
                      list(strftime(month, '%Y-%m') ORDER BY month) FILTER (WHERE suspect)
               FROM month_status GROUP BY source, force_id ORDER BY source, force_id"""
        ).fetchall():
            sources.append({
                "source": row[0], "force_id": row[1], "months": row[2],
                "first_month": row[3].strftime("%Y-%m"), "last_month": row[4].strftime("%Y-%m"),
                "crimes": int(row[5]), "asb": int(row[6]), "unassigned": int(row[7]),
                "duplicates": int(row[8]), "suspect_months": row[9] or [],
            })
        last = con.execute(
            """SELECT load_id, max(finished_at), count(*) FILTER (WHERE status = 'loaded'),
                      count(*) FILTER (WHERE status = 'refused')
               FROM load_log GROUP BY load_id ORDER BY max(finished_at) DESC LIMIT 1"""
        ).fetchone()
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        rows = con.execute(
            "SELECT dataset, source, count(DISTINCT force_id), count(*), sum(rows), "
            "count(DISTINCT month), strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m') "
            "FROM lake_manifest GROUP BY dataset, source ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    return {
        "warehouse": str(WarehousePaths(link).live()),
        "version": meta.get("version"),
        "built_at": meta.get("built_at"),
        "sources": sources,
        # Every dataset of every source (crimes, services, comparators) with its rows and
        # months; `sources` above is the crime completeness picture from month_status.
        "datasets": [
            {"dataset": d, "source": s, "forces": f, "partitions": p, "rows": int(r),
             "months": m, "first_month": first, "last_month": last}
            for d, s, f, p, r, m, first, last in rows
        ],
        "last_load": None if last is None else {
            "load_id": last[0], "finished_at": str(last[1]),
            "files_loaded": last[2], "files_refused": last[3],
        },
        "quarantined_rows": int(quarantined),
    }
