"""A phone-width window (390 px): pages do not scroll sideways as a whole; wide tables scroll inside themselves,
and the menu is one row instead of a header that fills a third of the screen."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_journey_login import _log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("username", "path"), [("admin", "/logg/"), ("admin", "/admin/anvandare"),
                                                ("ra_officer", "/bestallningar/att-godkanna")])
def test_pages_fit_a_phone_width(live_server, browser, username, path):
    context = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        _log_in(page, live_server, username)
        page.goto(f"{live_server}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        header = page.evaluate("document.querySelector('header.topbar').getBoundingClientRect().height")
        screenshot(page, f"narrow-{username}-{path.strip('/').replace('/', '-')}")
        assert overflow <= 1, f"{path} is {overflow} px wider than the window"
        assert header <= 130, f"the header takes {header} px"
    finally:
        context.close()
