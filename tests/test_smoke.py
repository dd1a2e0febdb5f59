def test_public_page_lists_open_call_with_remaining_quota(client, make):
    call = make.call()
    make.application("awarded", call.voucher_type("travel"))
    page = client.get("/").get_data(as_text=True)
    assert call.title in page
    assert "Travel" in page and "€5,000.00" in page
    # 12 travel vouchers, one awarded: 11 remain
    assert '<td class="num">11</td>' in page


def test_every_page_links_a_favicon_that_is_served(client):
    import re

    page = client.get("/").get_data(as_text=True)
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert icons == ["/static/favicon.svg", "/favicon.ico"]
    with client.get(icons[0]) as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert b"<svg" in svg.data
    # Asked for by browsers whatever the page links to: a real icon (ICO holding a PNG).
    with client.get("/favicon.ico") as ico:
        assert ico.status_code == 200
        assert ico.mimetype == "image/vnd.microsoft.icon"
        assert ico.data[:4] == b"\x00\x00\x01\x00" and b"\x89PNG" in ico.data
