"""Run every benchmark at the size its issue names, one after another, and print their reports.

``make bench`` calls this. Each script also runs on its own with ``--help`` for its options;
``--quick`` here runs each at a tenth of the size (or less) for a first look on a laptop.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

FULL: list[tuple[str, list[str]]] = [
    ("bench_foundation", ["--records", "100000", "--loads", "3"]),
    ("bench_exports", ["--records", "10000"]),
    ("bench_xml_exports", ["--records", "100000"]),
    ("bench_export_web", ["--records", "10000"]),
    ("bench_search", ["--records", "100000"]),
    ("bench_oai", ["--records", "1000000", "--backends", "sqlite,postgresql"]),
    ("bench_files", ["--size-mb", "1024"]),
    ("bench_harvest", ["--records", "1000000"]),
]
QUICK: dict[str, list[str]] = {
    "bench_foundation": ["--records", "10000", "--pages", "100"],
    "bench_exports": ["--records", "2000", "--runs", "3", "--one-by-one", "50"],
    "bench_xml_exports": ["--records", "5000"],
    "bench_export_web": ["--records", "2000"],
    "bench_search": ["--records", "10000"],
    "bench_oai": ["--records", "20000", "--backends", "sqlite"],
    "bench_files": ["--size-mb", "64", "--runs", "2"],
    "bench_harvest": ["--records", "10000", "--dedup-sizes", "10000"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, minutes instead of hours")
    parser.add_argument("names", nargs="*", help="run only these (e.g. bench_oai)")
    args = parser.parse_args()
    failures = 0
    for name, full_args in FULL:
        if args.names and name not in args.names:
            continue
        argv = QUICK[name] if args.quick else full_args
        print(f"== {name} {' '.join(argv)}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *argv], check=False)
        print(f"== {name}: exit {result.returncode} after {time.perf_counter() - started:.0f} s", flush=True)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
