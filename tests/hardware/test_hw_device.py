"""A real reader and a real card, when the environment names them (marked `device`; skipped otherwise).

    CARDADMIN_TEST_READER=<part of the reader's name>          required
    CARDADMIN_TEST_CARD_HSA_ID, CARDADMIN_TEST_CARD_NUMBER     what the card should say (optional)
    CARDADMIN_TEST_PIN                                         the card's PIN: also run proof of possession
    CARDADMIN_TRUST_ANCHORS, CARDADMIN_INTERMEDIATES, CARDADMIN_CRLS, CARDADMIN_*_POLICY_OIDS
                                                               the desk's trust settings: run the whole policy

A wrong CARDADMIN_TEST_PIN costs the card a PIN attempt; the tests never try a PIN twice.
"""

from __future__ import annotations

import os

import pytest

from hardware import pcsc
from hardware.certs import hsa_id_of
from hardware.profiles import KeyRole, open_application

pytestmark = pytest.mark.device
READER = os.environ.get("CARDADMIN_TEST_READER")
if not READER:
    pytest.skip("no real reader named (CARDADMIN_TEST_READER)", allow_module_level=True)


def test_the_card_is_seen_and_read() -> None:
    present = {name: atr for name, atr in pcsc.card_presence().items() if READER.lower() in name.lower()}
    assert present and any(present.values()), f"no card in {READER!r}: {present}"
    with pcsc.connect(READER) as conn:
        app = open_application(conn)
        certs = {c.role: c.certificate for c in app.read_certificates()}
        number = app.read_card_number()
    assert KeyRole.AUTHENTICATION in certs
    if hsa_id := os.environ.get("CARDADMIN_TEST_CARD_HSA_ID"):
        assert hsa_id_of(certs[KeyRole.AUTHENTICATION]) == hsa_id
    if expected := os.environ.get("CARDADMIN_TEST_CARD_NUMBER"):
        assert number == expected


@pytest.mark.skipif(not os.environ.get("CARDADMIN_TRUST_ANCHORS"), reason="no trust anchors configured")
def test_the_whole_policy_on_the_real_card() -> None:
    from cardadmin.desk.settings import load_trust
    from hardware.verify import verify_connection

    trust = load_trust({})
    with pcsc.connect(READER) as conn:
        app = open_application(conn)
        number = app.read_card_number() or ""
        hsa_id = hsa_id_of(app.read_certificates()[0].certificate) or ""
        result = verify_connection(conn, hsa_id=os.environ.get("CARDADMIN_TEST_CARD_HSA_ID", hsa_id),
                                   card_number=os.environ.get("CARDADMIN_TEST_CARD_NUMBER", number),
                                   trust_anchors=trust.anchors, intermediates=trust.intermediates, crls=trust.crls,
                                   policy=trust.policy, pin=os.environ.get("CARDADMIN_TEST_PIN"), reader=conn.reader)
    required = [c for c in result.failed if not (c.name == "proof_of_possession" and c.passed is None)]
    assert not required, [(c.name, c.reason) for c in required]
