"""``python -m vroegsignaal.service``: migrate the database, then serve (the container's entry point)."""

from __future__ import annotations

import argparse
import sys

from vroegsignaal.errors import ConfigError
from vroegsignaal.service.commands import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vroegsignaal.service", description=__doc__)
    parser.add_argument("--host", default=None, help="bind address (default: settings.host)")
    parser.add_argument("--port", type=int, default=None, help="port (default: settings.port)")
    parser.add_argument("--no-upgrade", action="store_true", help="do not run database migrations first")
    args = parser.parse_args(argv)
    try:
        serve(host=args.host, port=args.port, upgrade=not args.no_upgrade)
    except ConfigError as error:  # a setting to fix or a database to migrate: its message, not a traceback
        print(f"vroegsignaal: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
