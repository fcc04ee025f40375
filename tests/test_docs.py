"""The API docs work offline: /docs and /redoc load every file from this server, none from a CDN."""

from __future__ import annotations

import re

import gradio as gr
import pytest
from fastapi.testclient import TestClient

from server import Settings, create_app


@pytest.fixture(scope="module")
def client():
    with gr.Blocks() as ui:
        gr.Markdown("docs test")
    return TestClient(create_app(Settings(), ui=ui))


def referenced_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)


@pytest.mark.parametrize("page, kinds", [("/docs", {"javascript", "css"}), ("/redoc", {"javascript"})])
def test_docs_pages_load_only_local_files(client, page, kinds):
    response = client.get(page)
    assert response.status_code == 200
    urls = referenced_urls(response.text)
    assert urls and not [u for u in urls if "//" in u], urls  # no CDN (or any other host)
    served = set()
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"].split(";")[0]
        served.add(kind.split("/")[-1])
        if url.endswith(".js"):
            assert len(asset.content) > 100_000 and "javascript" in kind, url
    assert kinds <= served, served


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_offline(browser, app_url):
    """Chromium with every request off this server refused: the operations still render."""
    context = browser.new_context()
    outside = []

    def only_local(route):
        if route.request.url.startswith(app_url):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    try:
        page.goto(f"{app_url}/docs", timeout=60_000)
        page.wait_for_selector(".opblock-summary-path", timeout=60_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any("/api/v1/recognize" in p for p in paths), paths
        assert not outside, outside
    finally:
        context.close()
