"""Execute the notebooks: at full size (the figures in ``docs/images/notebooks/``) or small.

Usage::

    python notebooks/run.py                 # every notebook, full size
    python notebooks/run.py 03 04           # notebooks whose names start with 03 or 04
    python notebooks/run.py --testing       # small sizes, as CI runs them

The notebooks themselves stay without outputs in the repository; executed copies go to
``--out`` (default ``notebooks/_executed/``, ignored by git). A notebook reads
``JDYN_NOTEBOOK_TESTING=1`` to choose small sizes and, only at full size, saves its
figures into ``docs/images/notebooks/``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def notebook_paths(prefixes=()):
    """The notebooks in this folder, in order, optionally only those starting with a prefix."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if p.name.startswith(tuple(prefixes))]
    return paths


def execute(path, testing, timeout=3600):
    """Run one notebook in a fresh kernel with the notebooks folder as working directory.

    Returns the executed notebook (an ``nbformat.NotebookNode``); a failing cell raises
    ``nbclient.exceptions.CellExecutionError`` with the cell's traceback.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    previous = os.environ.get("JDYN_NOTEBOOK_TESTING")
    os.environ["JDYN_NOTEBOOK_TESTING"] = "1" if testing else "0"
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if previous is None:
            os.environ.pop("JDYN_NOTEBOOK_TESTING", None)
        else:
            os.environ["JDYN_NOTEBOOK_TESTING"] = previous
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose names start so")
    parser.add_argument("--testing", action="store_true", help="small sizes, as in CI")
    parser.add_argument("--out", type=Path, default=HERE / "_executed",
                        help="folder for the executed copies")
    args = parser.parse_args(argv)
    import nbformat

    paths = notebook_paths(args.prefixes)
    if not paths:
        parser.error(f"no notebook matches {args.prefixes!r} in {HERE}")
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        start = time.perf_counter()
        print(f"{path.name} ...", end=" ", flush=True)
        nb = execute(path, testing=args.testing)
        nbformat.write(nb, args.out / path.name)
        print(f"{time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
