"""Manual use: `python -m hardware.simulator make-profile OUT.json` then
`python -m hardware.simulator run --profile OUT.json --vpcd 127.0.0.1:35963` (Ctrl-C removes the card)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from hardware.simulator.profile import load_profile, save_profile
from hardware.simulator.testpki import KEY_TYPES, make_profile
from hardware.simulator.vpcd import DEFAULT_HOST, DEFAULT_PORT, run_vpcd_bridge


def parse_hostport(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or DEFAULT_HOST, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make-profile", help="write a card profile (test PKI, keys, certificates)")
    mk.add_argument("out")
    mk.add_argument("--key-type", choices=KEY_TYPES, default="p256")
    mk.add_argument("--hsa-id", default="TSTNMT2321000156-1019")
    mk.add_argument("--given-name", default="Test")
    mk.add_argument("--surname", default="Testsson")
    mk.add_argument("--card-number")
    mk.add_argument("--pin", default="123456")
    mk.add_argument("--puk", default="12345678")
    mk.add_argument("--compress", action="store_true", help="store certificates gzipped")
    mk.add_argument("--revoked", action="store_true", help="list the certificates on the profile's CRL")
    run = sub.add_parser("run", help="insert the card into vpcd until interrupted")
    run.add_argument("--profile", required=True)
    run.add_argument("--vpcd", default=f"{DEFAULT_HOST}:{DEFAULT_PORT}", help="HOST:PORT of vpcd")
    run.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "make-profile":
        profile = make_profile(hsa_id=args.hsa_id, given_name=args.given_name, surname=args.surname,
                               card_number=args.card_number, key_type=args.key_type, pin=args.pin,
                               puk=args.puk, compress=args.compress, revoke=args.revoked)
        save_profile(profile, args.out)
        print(f"wrote {args.out}: HSA-ID {profile.hsa_id}, card number {profile.card_number}")
        return 0

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    host, port = parse_hostport(args.vpcd)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"card inserted into vpcd at {host}:{port}; Ctrl-C to remove", flush=True)
    run_vpcd_bridge(load_profile(args.profile), host, port, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
