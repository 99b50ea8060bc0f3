from tests.browser import browser, desktop_page, live_server, phone_page  # noqa: F401 - fixtures
