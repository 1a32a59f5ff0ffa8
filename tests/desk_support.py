"""Helpers for the desk verification tests: a test PKI written to files as a desk configures it, cards
issued for an order's person, and an order at the desk whose registered card is that card."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from cardadmin.db import db
from cardadmin.orders import service
from cardadmin.orders.models import Order
from cardadmin.orders.states import Status
from hardware.simulator import CardProfile, TestPki, make_profile
from hardware.simulator.testpki import POLICY_AUTH, POLICY_SIGN
from tests.conftest import World
from tests.test_people import add_person, user

PIN = "123456"


@dataclass
class DeskPki:
    pki: TestPki
    folder: Path

    def config(self, **extra: Any) -> dict[str, Any]:
        """App settings pointing at the files, as CARDADMIN_* environment variables would."""
        return {"CARDADMIN_TRUST_ANCHORS": str(self.folder / "anchors"),
                "CARDADMIN_INTERMEDIATES": str(self.folder / "ca.pem"),
                "CARDADMIN_CRLS": str(self.folder / "crls"),
                "CARDADMIN_AUTH_POLICY_OIDS": POLICY_AUTH.dotted_string,
                "CARDADMIN_SIGN_POLICY_OIDS": POLICY_SIGN.dotted_string,
                "CARDADMIN_LOCAL_READER": "1", **extra}

    def write_crl(self) -> None:
        (self.folder / "crls" / "ca.crl").write_bytes(self.pki.crl().public_bytes(Encoding.DER))

    def card(self, hsa_id: str, *, key_type: str = "p256", card_number: str | None = None,
             revoke: bool = False) -> CardProfile:
        profile = make_profile(key_type=key_type, pki=self.pki, hsa_id=hsa_id, pin=PIN,  # type: ignore[arg-type]
                               card_number=card_number, revoke=revoke)
        self.write_crl()  # a revoked card is on the CRL the desk reads
        return profile


def make_desk_pki(folder: Path) -> DeskPki:
    pki = TestPki.create("p256")
    (folder / "anchors").mkdir(parents=True)
    (folder / "crls").mkdir()
    (folder / "anchors" / "root.pem").write_bytes(pki.root.public_bytes(Encoding.PEM))
    (folder / "ca.pem").write_bytes(pki.ca.public_bytes(Encoding.PEM))
    desk = DeskPki(pki, folder)
    desk.write_crl()
    return desk


def order_at_desk(w: World, card_number: str, local: str = "P1", target: Status = Status.AT_DESK) -> Order:
    """An order for a new person, driven to `target` with `card_number` registered as its card."""
    from tests.test_orders_service import to_status

    person = add_person(w, local)
    order = service.create_order(user(w, "orderer"), person_id=person.id, order_type="new", desk_id=w.desk_id)
    db.session.commit()
    to_status(w, order, target, card_number)
    return order


def person_hsa_id(local: str = "P1") -> str:
    return f"SE2321000222-{local}"


