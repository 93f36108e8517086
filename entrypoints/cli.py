"""The ``seedcore`` command line: one command, a subcommand per job, ``--help`` on each.

Exit codes: 0 on success, 1 when a check or goal failed, 2 on bad usage or settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


def _bench_energy(args: argparse.Namespace) -> int:
    from entrypoints import bench_energy

    bench_energy.run(repeats=args.repeats, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedcore",
        description="SeedCore: a runtime for populations of cooperating agents with memory.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    bench = commands.add_parser("bench", help="run a benchmark and print its figures")
    benches = bench.add_subparsers(dest="bench", metavar="BENCH", required=True)
    energy = benches.add_parser(
        "energy",
        help="energy with gradients for 1,000 and 10,000 agents; one selection among 1,000",
        description="Median and spread of the domain's energy and selection computations.",
    )
    energy.add_argument("--repeats", type=int, default=50, help="timed runs per figure")
    energy.add_argument("--seed", type=int, default=0, help="seed of the random organism")
    energy.set_defaults(handler=_bench_energy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("seedcore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
