"""The chat widget: served assets, and a real headless Chromium session that asks a
question, sees streamed text and a citation, requests an order, approves it and sees
the fill. A screenshot is saved by the run."""

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from assistant.settings import Settings
from tests.test_api import Server

SCREENSHOT_DIR = Path(
    os.environ.get("ASSISTANT_TEST_ARTIFACTS", "/tmp/market-assistant-test-artifacts")
)


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_dir, sample_index_dir):
    data = tmp_path_factory.mktemp("widget-data")
    (data / "prices").symlink_to(sample_dir / "prices")
    shutil.copytree(sample_index_dir, data / "qdrant")
    app = create_app(Settings(data_dir=data), login_token="widget-login")
    with Server(app) as running:
        yield running


def test_assets_and_me(server):
    with httpx.Client(base_url=server.url) as c:
        page = c.get("/")
        assert page.status_code == 200 and '<script src="/widget.js"></script>' in page.text
        js = c.get("/widget.js")
        assert js.headers["content-type"].startswith("application/javascript")
        assert 'customElements.define("market-assistant"' in js.text and "https://" not in js.text
        assert c.get("/v1/me").status_code == 401
        assert c.get("/v1/artifacts/../../etc/passwd").status_code in (401, 404)


def test_chat_in_headless_chromium(server, chromium):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.goto(f"{server.url}/login?token=widget-login")  # sets the session cookie, lands on /
        widget = page.locator("market-assistant")
        widget.locator(".bubble").click()
        box = widget.locator("input")
        box.fill("What did Apple's 10-K say about supply chain risk?")
        box.press("Enter")
        answer = widget.locator(".msg.assistant").last
        expect(answer).to_contain_text("[1]", timeout=30_000)
        expect(answer.locator(".cites")).to_contain_text("[1] Apple Inc.", timeout=30_000)
        expect(answer.locator("details.step")).to_contain_text("search_documents")

        box.fill("buy 10 AAPL")
        box.press("Enter")
        card = widget.locator(".card").last
        expect(card).to_contain_text("Approval needed: buy 10 AAPL", timeout=30_000)
        assert card.locator("li.pass").count() >= 3  # each check with its result, not a sum
        expect(card.locator("li.pass").first).to_contain_text("✓ ")
        # the viewer's local time, not the ISO timestamp of the event
        expect(card.locator(".expires")).not_to_contain_text(re.compile(r"\d{4}-\d\d-\d\dT"))
        card.locator("button.approve").click()
        expect(card).to_contain_text("executed", timeout=30_000)
        expect(card).to_contain_text("was filled at")
        page.wait_for_timeout(500)  # the watched conversation must not draw our own run again
        assert widget.locator(".msg.assistant").count() == 2
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOT_DIR / "widget-approved-order.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        browser.close()


def test_a_trader_sees_the_fill_when_an_approver_elsewhere_decides(server, chromium):
    """The trader's widget has no buttons; an approver decides through the API (as from
    Slack or another browser) and the resumed run appears in the trader's chat."""
    from playwright.sync_api import expect, sync_playwright

    from assistant.auth import Role
    from assistant.keys import KeyStore
    from assistant.resources import engine

    keys = KeyStore(engine(server.server.config.app.state.services.settings))
    trader, approver = keys.create(Role.TRADER)[1], keys.create(Role.APPROVER)[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        context = browser.new_context()
        context.add_cookies([{"name": "ma_session", "value": trader, "url": server.url}])
        page = context.new_page()
        page.goto(server.url)
        widget = page.locator("market-assistant")
        widget.locator(".bubble").click()
        widget.locator("input").fill("buy 2 KO")
        widget.locator("input").press("Enter")
        card = widget.locator(".card").last
        expect(card).to_contain_text("An approver must decide", timeout=30_000)
        assert card.locator("button").count() == 0
        approval_id = httpx.get(
            f"{server.url}/v1/approvals", headers={"Authorization": f"Bearer {approver}"}
        ).json()[-1]["approval_id"]
        decided = httpx.post(
            f"{server.url}/v1/approvals/{approval_id}/approve",
            headers={"Authorization": f"Bearer {approver}"},
            timeout=30,
        )
        assert decided.json()["status"] == "executed"
        resumed = widget.locator(".msg.assistant").last
        expect(resumed).to_contain_text("was filled at", timeout=30_000)
        expect(card).to_contain_text("Decided; the outcome is below.")
        assert widget.locator(".msg.assistant").count() == 2  # the order turn + the resumed one
        browser.close()


def test_a_browser_without_a_session_is_told_how_to_sign_in(server, chromium):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        page.goto(server.url)  # no login link: no session cookie
        widget = page.locator("market-assistant")
        widget.locator(".bubble").click()
        expect(widget.locator(".signin")).to_contain_text("login link", timeout=15_000)
        box = widget.locator("input")
        box.fill("What is Apple's RSI?")
        box.press("Enter")
        page.wait_for_timeout(500)
        assert "invalid API key" not in widget.locator(".log").inner_text()
        assert widget.locator(".signin").count() == 1
        browser.close()


def test_api_docs_render_with_the_network_unplugged(server, chromium):
    """/docs loads Swagger UI from the package's files: with every request to another
    host refused, the page still renders the API's operations."""
    from playwright.sync_api import expect, sync_playwright

    with httpx.Client(base_url=server.url) as c:
        html = c.get("/docs").text
        assert "/docs/assets/swagger-ui-bundle.js" in html and "cdn.jsdelivr" not in html
        js = c.get("/docs/assets/swagger-ui-bundle.js")
        assert js.status_code == 200 and "SwaggerUIBundle" in js.text
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page()

        def only_local(route):
            if route.request.url.startswith(server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(f"{server.url}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text(
            "Market Assistant", timeout=30_000
        )
        expect(page.locator(".opblock-summary-path").first).to_be_visible()
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "api-docs-offline.png"), full_page=False)
        browser.close()
    assert outside == []


def test_the_risk_profile_questionnaire_in_the_widget(server, chromium):
    """Four questions from /v1/profile, saved with PUT, shown again after a reload; the
    profile belongs to the browser session's user."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        from assistant.auth import Role
        from assistant.keys import KeyStore

        services = server.server.config.app.state.services  # the login link is one-time
        _, token = KeyStore(services.store.engine).open_session(Role.VIEWER, 1)
        page.context.add_cookies([{"name": "ma_session", "value": token, "url": server.url}])
        page.goto(server.url)
        widget = page.locator("market-assistant")
        widget.locator(".bubble").click()
        widget.locator("button.profile-toggle").click()
        box = widget.locator(".profile")
        expect(box).to_contain_text("No risk profile yet", timeout=10_000)
        box.locator("button.save").click()
        expect(box.locator(".status")).to_contain_text("Answer all four")
        for name, value in (
            ("horizon", "over_10y"),
            ("loss_tolerance", "hold"),
            ("goal", "growth"),
            ("experience", "some"),
        ):
            box.locator(f"select[name={name}]").select_option(value)
        box.locator("button.save").click()
        expect(box.locator(".status")).to_contain_text("Saved.", timeout=10_000)
        expect(box.locator(".current")).to_contain_text("Your risk profile: moderate")
        expect(box.locator(".current")).to_contain_text("capped at 20% of equity")
        page.reload()
        widget.locator(".bubble").click()
        widget.locator("button.profile-toggle").click()
        expect(box.locator(".current")).to_contain_text("moderate", timeout=10_000)
        assert box.locator("select[name=goal]").input_value() == "growth"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "widget-risk-profile.png"), full_page=True)
        browser.close()


def test_watchlists_alerts_and_notifications_in_the_widget(server, chromium):
    """The watch panel edits a watchlist and deletes an alert; an alert asked for in the
    chat with the widget channel fires, and its notification arrives in the open widget
    over the notifications stream."""
    from playwright.sync_api import expect, sync_playwright

    from assistant.auth import Role
    from assistant.keys import KeyStore

    services = server.server.config.app.state.services
    _, token = KeyStore(services.store.engine).open_session(Role.TRADER, 1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        page.context.add_cookies([{"name": "ma_session", "value": token, "url": server.url}])
        page.goto(server.url)
        widget = page.locator("market-assistant")
        widget.locator(".bubble").click()
        widget.locator("button.watch-toggle").click()
        box = widget.locator(".watch")
        expect(box).to_contain_text("No watchlists yet", timeout=10_000)
        inputs = box.locator(".add input")
        inputs.nth(1).fill("ko, msft")
        box.locator(".add button").click()
        expect(box.locator(".sym")).to_have_count(2, timeout=10_000)
        box.locator(".sym", has_text="MSFT").locator("button").click()
        expect(box.locator(".sym")).to_have_count(1, timeout=10_000)
        expect(box.locator(".list")).to_contain_text("default: KO")
        inputs.nth(1).fill("ZZZZQ")
        box.locator(".add button").click()
        expect(box.locator(".status")).to_contain_text("ZZZZQ", timeout=10_000)
        widget.locator("button.watch-toggle").click()  # closed
        widget.locator("input").last.fill("alert me in the widget when KO closes above 1")
        widget.locator("form button").click()
        expect(widget.locator(".msg.assistant").last).to_contain_text("Alert set", timeout=60_000)
        services.alerts.sweep()  # what the server's job does every sweep interval
        services.deliveries.run()
        note = widget.locator(".note")
        expect(note).to_contain_text("Alert: KO closes above 1", timeout=20_000)
        widget.locator("button.watch-toggle").click()
        expect(box.locator(".alert")).to_contain_text("KO closes above 1 (fired)", timeout=10_000)
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "widget-watch.png"), full_page=True)
        box.locator(".alert button").click()
        expect(box).to_contain_text("No alerts.", timeout=10_000)
        browser.close()
