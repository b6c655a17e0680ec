"""``python -m vroegsignaal.service``: migrate the database, then serve (the container's entry point)."""

from __future__ import annotations

import argparse

from vroegsignaal.service.commands import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vroegsignaal.service", description=__doc__)
    parser.add_argument("--host", default=None, help="bind address (default: settings.host)")
    parser.add_argument("--port", type=int, default=None, help="port (default: settings.port)")
    parser.add_argument("--no-upgrade", action="store_true", help="do not run database migrations first")
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, upgrade=not args.no_upgrade)


if __name__ == "__main__":
    main()
