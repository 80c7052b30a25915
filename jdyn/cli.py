"""The ``jdyn`` command line: argument parsing and exit codes only.

Exit codes: 0 success; 1 a run or benchmark failed; 2 bad arguments, bad input or an
unwritable output (one line on stderr says why); 130 Ctrl-C; 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .scenarios.signals import EXIT_TERMINATED, Terminated

__all__ = ["main", "build_parser"]

#: ``jdyn bench NAME`` → module implementing ``add_arguments(parser)`` and ``run(args)``.
BENCHMARKS = {
    "jprop": ("jdyn.bench.jprop", "J-prop gradients against the data-loss gradient (and peers)"),
    "analysis": ("jdyn.bench.analysis", "Lyapunov spectra and correlation dimension (and nolds)"),
    "train": ("jdyn.bench.train", "a full-batch fit with and without the Jacobian penalty"),
    "accuracy": ("jdyn.bench.accuracy", "jdyn.analyse against the truth and peers, over seeds"),
    "catalogue": ("jdyn.bench.catalogue", "invariants of the dysts flows against dysts' values"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jdyn", description="Exact Jacobian-aware models of chaotic time series.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    bench = sub.add_parser("bench", help="run a benchmark (one BLAS thread, medians)",
                           description="Rerunnable benchmarks; see docs/benchmarks.md.")
    bench_sub = bench.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, (module, help_text) in BENCHMARKS.items():
        p = bench_sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_bench_module=module)
        _bench_arguments(module, p)
    _register_optional(sub)
    return parser


def _bench_arguments(module, parser):
    try:
        mod = importlib.import_module(module)
    except ImportError:
        parser.set_defaults(_missing=module)
        return
    mod.add_arguments(parser)


def _register_optional(sub):
    """Commands whose modules may import heavy dependencies register lazily."""
    for module in ("jdyn.scenarios.cli", "jdyn.systems.cli", "jdyn.pipeline.cli"):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        mod.register(sub)


def _reexec_single_threaded(argv):
    """Benchmarks hold BLAS to one thread. The variables only act if set before numpy
    loads, and importing jdyn loads numpy, so the command re-executes itself once."""
    from .bench._timing import env_is_single_threaded, single_thread_env
    if env_is_single_threaded():
        return
    env = dict(os.environ, **single_thread_env())
    os.execve(sys.executable, [sys.executable, "-m", "jdyn", *argv], env)


def main(argv=None) -> int:
    cli_argv = sys.argv[1:] if argv is None else list(argv)
    if argv is None and cli_argv[:1] == ["bench"] and "-h" not in cli_argv and "--help" not in cli_argv:
        _reexec_single_threaded(cli_argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__
        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "bench":
        if getattr(args, "_missing", None):
            print(f"jdyn: benchmark module {args._missing} is not available", file=sys.stderr)
            return 1
        run = importlib.import_module(args._bench_module).run
    else:
        run = args._run
    try:
        return int(run(args) or 0)
    except BrokenPipeError:
        _silence_stdout()     # `jdyn run --dry-run | head`: the reader has what it wanted
        return 0
    except ValueError as exc:
        print(f"jdyn: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:     # e.g. a full disk: one line, not a traceback
        print(f"jdyn: {_os_message(exc)}", file=sys.stderr)
        return 2
    except Terminated:
        print("jdyn: terminated (SIGTERM); finished jobs are kept (rerun with --resume)",
              file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("jdyn: interrupted", file=sys.stderr)
        return 130


def _os_message(exc):
    if exc.filename and str(exc.filename) not in str(exc.strerror):
        return f"{exc.filename}: {exc.strerror}"
    return str(exc.strerror or exc) or type(exc).__name__


def _silence_stdout():
    """Point stdout at /dev/null so that the interpreter's last flush does not raise."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
