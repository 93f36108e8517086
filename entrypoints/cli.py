"""The ``seedcore`` command line: one command, a subcommand per job, ``--help`` on each.

Exit codes: 0 on success, 1 when a check or goal failed, 2 on bad usage or settings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from application.errors import BackendUnavailable
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings, SettingsError

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


def _bench_energy(args: argparse.Namespace) -> int:
    from entrypoints import bench_energy

    bench_energy.run(repeats=args.repeats, seed=args.seed)
    return 0


def _bench_api(args: argparse.Namespace) -> int:
    from entrypoints import bench_api

    result = bench_api.run(clients=args.clients, duration_s=args.duration,
                           warmup_s=args.warmup, agents=args.agents, url=args.url,
                           rate=args.rate, runtime=args.runtime)
    return 0 if result.completed > 0 and result.failed == 0 else 1


def _scenario(args: argparse.Namespace) -> int:
    import httpx

    from entrypoints.scenarios import run_scenario

    try:
        with httpx.Client(base_url=args.url, timeout=30.0) as client:
            client.get("/healthz").raise_for_status()
            report = run_scenario(args.number, client)
    except httpx.HTTPError as error:
        print(f"seedcore: cannot reach {args.url}: {error}", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def _bench_memory(args: argparse.Namespace) -> int:
    from entrypoints import bench_memory

    bench_memory.run(ops=args.ops, holons=args.holons, queries=args.queries,
                     zipf_lookups=args.zipf_lookups, seed=args.seed)
    return 0


def _bench_selection(args: argparse.Namespace) -> int:
    from entrypoints import bench_selection
    from entrypoints.weights import load_weights

    weights = load_weights(args.weights) if args.weights else None
    result = bench_selection.run(seeds=args.seeds, tasks=args.tasks, table_path=args.table,
                                 weights=weights)
    return 0 if result["goals"]["goal_20pct_vs_random"] else 1


def _energy_tune(args: argparse.Namespace) -> int:
    from entrypoints import energy_tune

    energy_tune.run(generations=args.generations, population=args.population, tasks=args.tasks,
                    write=args.write)
    if args.write:
        print(f"wrote {args.write}; use it with SEEDCORE_SELECTION_WEIGHTS={args.write}")
    return 0


def _bench_scale(args: argparse.Namespace) -> int:
    from entrypoints import bench_scale

    bench_scale.run(sizes=tuple(args.sizes), submitters=args.submitters)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    for name in ("host", "port", "metrics_port", "data_dir", "profile", "runtime"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[f"SEEDCORE_{name.upper()}"] = str(value)
    settings = Settings.from_env({**os.environ, **overrides})
    configure_logging(settings.log_format, settings.log_level)
    return settings


def _serve(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from entrypoints.bootstrap import bootstrap
    from entrypoints.serve import serve

    settings = _settings(args)
    registry = CollectorRegistry()
    services = bootstrap(settings, registry)
    try:
        serve(services, settings.host, settings.port, registry, with_loops=not args.no_loops)
    finally:
        services.close()
    return 0


def _worker(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    from entrypoints.api.health import default_readiness
    from entrypoints.bootstrap import bootstrap
    from entrypoints.observability import register_collectors
    from entrypoints.worker import Worker, default_owner

    settings = _settings(args)
    registry = CollectorRegistry()
    services = bootstrap(settings, registry)
    try:
        register_collectors(registry, services, default_readiness(services, None))
        try:
            server, thread = start_http_server(settings.metrics_port, settings.host,
                                               registry=registry)
        except OSError as error:
            print(f"seedcore: cannot serve metrics on {settings.host}:{settings.metrics_port}: "
                  f"{error.strerror} (set SEEDCORE_METRICS_PORT)", file=sys.stderr)
            return 1
        worker = Worker(services, services.lock, settings.worker_id or default_owner())
        worker.install_signal_handlers()
        try:
            stopped_in_time = worker.run_in_background()
        finally:
            server.shutdown()
            thread.join(timeout=5)
    finally:
        services.close()
    return 0 if stopped_in_time else 1


def _add_settings_options(parser: argparse.ArgumentParser, network: bool) -> None:
    parser.add_argument("--profile", choices=["embedded", "full"],
                        help="adapters to use (default: SEEDCORE_PROFILE or embedded)")
    parser.add_argument("--runtime", choices=["ray", "inprocess"],
                        help="where agents run (default: SEEDCORE_RUNTIME or ray: a private Ray,"
                        " or the cluster SEEDCORE_RAY_ADDRESS / RAY_ADDRESS names)")
    parser.add_argument("--data-dir", dest="data_dir",
                        help="where the embedded profile keeps its data (default .data)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    if network:
        parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    else:
        parser.add_argument("--metrics-port", dest="metrics_port", type=int,
                            help="port of the worker's /metrics (default 9100)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedcore",
        description="SeedCore: a runtime for populations of cooperating agents with memory.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="run the HTTP API and the control loops in one process",
        description="Serve the API under /api/v1 and run the worker's loops in the background."
        " Settings come from SEEDCORE_* variables; the options below override them.",
    )
    _add_settings_options(serve, network=True)
    serve.add_argument("--no-loops", action="store_true", help="serve the API only")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="run the control loops until SIGTERM",
        description="Run heartbeats, energy snapshots, role evolution, consolidation and"
        " hot-miss promotion on their schedules; SIGTERM lets the running loop finish.",
    )
    _add_settings_options(worker, network=False)
    worker.set_defaults(handler=_worker)

    scenario = commands.add_parser(
        "scenario", help="run validation scenario 1, 2 or 3 against a running deployment",
        description="Run a validation scenario through the HTTP API, print every check, and"
        " exit non-zero if any check failed.",
    )
    scenario.add_argument("number", type=int, choices=[1, 2, 3], help="which scenario")
    scenario.add_argument("--url", default="http://127.0.0.1:8000",
                          help="the deployment's base URL (default http://127.0.0.1:8000)")
    scenario.set_defaults(handler=_scenario)

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
    api = benches.add_parser(
        "api",
        help="task submissions from concurrent clients: throughput and p50/p95/p99",
        description="Start `seedcore serve` on loopback (or use --url) and drive POST /tasks"
        " from concurrent keep-alive clients.",
    )
    api.add_argument("--clients", type=int, default=32, help="concurrent connections")
    api.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    api.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    api.add_argument("--agents", type=int, default=64, help="agents in the benchmark organ")
    api.add_argument("--url", help="a running deployment instead of a fresh local server")
    api.add_argument("--rate", type=float,
                     help="offer this many tasks/s in total (paced) instead of a closed loop")
    api.add_argument("--runtime", choices=["ray", "inprocess"], default="ray",
                     help="where the local server runs its agents (default: ray, as serve)")
    api.set_defaults(handler=_bench_api)
    memory = benches.add_parser(
        "memory",
        help="Mw adapter vs raw redis-py, Mlt bulk load / recall / latency, incident inserts,"
        " Zipf hit rate",
        description="Benchmarks the memory tiers on the real backends named by the SEEDCORE_*"
        " variables (run `eval \"$(scripts/services.sh env)\"` first for the test services).",
    )
    memory.add_argument("--ops", type=int, default=10_000, help="Mw operations per figure")
    memory.add_argument("--holons", type=int, default=100_000, help="holons to bulk load")
    memory.add_argument("--queries", type=int, default=200, help="similarity queries")
    memory.add_argument("--zipf-lookups", dest="zipf_lookups", type=int, default=20_000,
                        help="measured Zipf lookups (as many again warm up first)")
    memory.add_argument("--seed", type=int, default=0)
    memory.set_defaults(handler=_bench_memory)
    scale = benches.add_parser(
        "scale",
        help="Ray runtime: start-up, memory, throughput, p50/p95 and recovery per population",
        description="Hosts 10 to 10,000 agents in Ray organ actors and drives them from"
        " concurrent submitters; kills an actor to time recovery.",
    )
    scale.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    scale.add_argument("--submitters", type=int, default=64)
    scale.set_defaults(handler=_bench_scale)
    selection = benches.add_parser(
        "selection",
        help="joules per success, success rate, p95 and Mw hit rate of five selection policies",
        description="Runs the same seeded simulated workloads under random, round-robin,"
        " least-loaded, energy-aware and oracle selection; prints the table with 95 %% intervals"
        " and writes it (Markdown) with a PNG plot beside it.",
    )
    selection.add_argument("--seeds", type=int, default=5, help="workload seeds (>= 5)")
    selection.add_argument("--tasks", type=int, default=2000, help="tasks per workload")
    selection.add_argument("--table", default="docs/img/selection.md",
                           help="where to write the table (the plot goes beside it as .png)")
    selection.add_argument("--weights", help="selection weights JSON from `seedcore energy tune`")
    selection.set_defaults(handler=_bench_selection)

    energy = commands.add_parser("energy", help="energy tools")
    energy_commands = energy.add_subparsers(dest="energy", metavar="TOOL", required=True)
    tune = energy_commands.add_parser(
        "tune",
        help="search the selection weights (CMA-ES) on simulated workloads",
        description="Tunes the selection weights on training workloads and reports the change"
        " on held-out workloads against the defaults.",
    )
    tune.add_argument("--generations", type=int, default=12)
    tune.add_argument("--population", type=int, default=8)
    tune.add_argument("--tasks", type=int, default=1000, help="tasks per workload")
    tune.add_argument("--write", help="write the tuned weights to this JSON file")
    tune.set_defaults(handler=_energy_tune)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except SettingsError as error:
        print(f"seedcore: {error}", file=sys.stderr)
        return 2
    except BackendUnavailable as error:  # e.g. a backend down at start-up, Ray not joinable
        print(f"seedcore: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("seedcore: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
