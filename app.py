"""Entry point: `gunicorn app:server` for serving, `python app.py` for a local look.

`server` is built at import from the configured warehouse (`LG_WAREHOUSE`, else
`data/warehouse.duckdb`). Building it opens nothing, so gunicorn workers each open their
own read-only DuckDB connection after the fork.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler

from dashboard.app import serving_app
from etl.config import warehouse_path

server = serving_app(warehouse_path()).server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Looking Glass dashboard locally.")
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="warehouse link path (default: $LG_WAREHOUSE or data/warehouse.duckdb)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    args = parser.parse_args(argv)
    app = serving_app(warehouse_path(args.warehouse))
    # Never debug: the debugger would let anyone who can reach the port run code.
    app.server.run(host=args.host, port=args.port, debug=False, request_handler=_QuietHandler)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without 'Werkzeug/x Python/y' in the Server header: no response
    publishes the versions the server runs."""

    server_version = "Looking Glass"
    sys_version = ""

    def version_string(self) -> str:
        return self.server_version


if __name__ == "__main__":
    main()
