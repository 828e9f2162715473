"""``python -m gridledger.bench``: run the suite in this interpreter and print the JSON document on stdout.

The child that :func:`gridledger.bench.run_threads` starts once per thread
count (``RAYON_NUM_THREADS`` set in its environment); progress goes to stderr.
Users run ``gridledger bench``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gridledger.bench.runner import run_suite


def main() -> int:
    """Run the suite named by ``--size``/``--workloads`` and print its result document as JSON.

    Progress lines go to stderr; returns the exit status 0.
    """
    p = argparse.ArgumentParser(prog="python -m gridledger.bench")
    p.add_argument("--size", default="default")
    p.add_argument("--workloads", default="")
    p.add_argument("--load", type=Path)
    args = p.parse_args()
    names = [n for n in args.workloads.split(",") if n] or None
    doc = run_suite(names, args.size, args.load, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
