"""Run every benchmark (or those named: `python -m bench audit`) and print a Markdown summary."""

from __future__ import annotations

import sys

from bench import audit_chain, export, hsa, orders
from bench import verify as card_verify

BENCHES = {"audit": audit_chain.main, "orders": orders.main, "hsa": hsa.main, "export": export.main,
           "verify": card_verify.main}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    for name in names:
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
