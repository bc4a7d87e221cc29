"""`python -m operator_bench.sites [serve] [flags]`: the same as `operator sites serve`."""

from __future__ import annotations

import argparse
import sys

from .serve import add_arguments, run


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        args = args[1:]
    parser = argparse.ArgumentParser(prog="python -m operator_bench.sites",
                                     description="Run the practice sites.")
    add_arguments(parser)
    return run(parser.parse_args(args))


if __name__ == "__main__":
    sys.exit(main())
