"""Form layout in a real browser: a checkbox sits left of its label on the same line (it was centred above it on
every form), and the page's icon is found (/favicon.ico 404'd on every page)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_journey_login import _log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("path", "checkboxes"), [("/admin/kortutlamningar/ny", ["is_regional", "active"]),
                                                   ("/personer/ny", ["protected_identity"])])
def test_checkboxes_sit_beside_their_labels(live_server, page, path, checkboxes):
    _log_in(page, live_server, "admin")
    icon = page.request.get(f"{live_server}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/vnd.microsoft.icon"
    page.goto(f"{live_server}{path}")
    screenshot(page, f"checkboxes-{path.strip('/').replace('/', '-')}")
    for name in checkboxes:
        box = page.locator(f"input[type=checkbox][name={name}]").bounding_box()
        label = page.locator(f"label[for={name}]").bounding_box()
        assert box["x"] + box["width"] <= label["x"], f"{name}: the box is not left of its label"
        box_middle, label_middle = box["y"] + box["height"] / 2, label["y"] + label["height"] / 2
        assert abs(box_middle - label_middle) <= 4, f"{name}: the box and its label are not on one line"
