"""The site icon: browsers ask for /favicon.ico on every page; pages link the SVG."""

import io

from PIL import Image


def test_favicon_ico_is_a_real_icon(client) -> None:
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert "max-age" in response.headers["Cache-Control"]
        icon = Image.open(io.BytesIO(response.data))
    assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]


def test_pages_link_the_svg_icon_from_our_own_site(client) -> None:
    for path in ("/?lang=en", "/certificates?lang=en", "/login"):
        page = client.get(path).get_data(as_text=True)
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page, path
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert b"<svg" in svg.data
