"""The order-bound desk commands without a reader: a simulated card made for an order verifies for it, and
`card verify --order` refuses clearly (exit 2, Swedish) before it asks for a PIN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.cli import ScriptInfo

from cardadmin.db import db
from cardadmin.desk import verification
from cardadmin.desk.cli import card_group, sim_group
from hardware.simulator import SimulatedPivCard, load_profile
from tests.conftest import build_world
from tests.desk_support import PIN, order_at_desk
from tests.test_people import user


def test_a_simulated_card_made_for_an_order_verifies_for_it(make_app: Any, tmp_path: Path) -> None:
    app = make_app()
    with app.app_context():
        world = build_world()
        order_id = order_at_desk(world, "97520000000000000017").id
    out = tmp_path / "card.json"
    result = CliRunner().invoke(sim_group, ["make-profile", str(out), "--order", str(order_id)],
                                obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert f"CARDADMIN_TRUST_ANCHORS={tmp_path}/card-root.pem" in result.output
    profile = load_profile(out)
    assert profile.card_number == "97520000000000000017" and profile.hsa_id == "SE2321000222-P1"
    app.config.update(CARDADMIN_TRUST_ANCHORS=str(tmp_path / "card-root.pem"),
                      CARDADMIN_INTERMEDIATES=str(tmp_path / "card-ca.pem"),
                      CARDADMIN_CRLS=str(tmp_path / "card-crl.pem"))
    with app.app_context():
        row = verification.verify_card(user(world, "card_admin"), order_id, SimulatedPivCard(profile), PIN,
                                       app.config, source="cli")
        db.session.commit()
        assert row.ok, row.failed_checks


def test_order_commands_refuse_clearly(make_app: Any, tmp_path: Path) -> None:
    app = make_app(CARDADMIN_TRUST_ANCHORS=str(tmp_path / "none"))
    with app.app_context():
        world = build_world()
        order_id = order_at_desk(world, "97520000000000000017").id
    info = ScriptInfo(create_app=lambda: app)
    cases = [
        (["verify", "--order", str(order_id)], "--user"),
        (["verify", "--order", str(order_id), "--user", "nobody"], "Ingen aktiv användare"),
        (["verify", "--order", "999", "--user", "card_admin"], "finns inte"),
        (["verify", "--order", str(order_id), "--user", "orderer"], "behörighet"),
        (["verify", "--order", str(order_id), "--user", "card_admin"], "inte inställd"),
        (["verify", "--hsa-id", "X"], "--order"),
    ]
    for args, text in cases:
        result = CliRunner().invoke(card_group, args, obj=info, input=PIN + "\n")
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output, (args, result.output)
        assert "PIN" not in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(sim_group, ["make-profile", str(tmp_path / "x.json"), "--order", "999"], obj=info)
    assert missing.exit_code == 2 and "finns inte" in missing.output
