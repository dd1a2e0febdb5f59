def test_public_page_renders_in_chromium(browser, live_server, shots):
    app, url = live_server
    page = browser.new_page()
    page.goto(url + "/")
    assert page.get_by_role("heading", name="Open calls").is_visible()
    shots(page, "open-calls")
    page.close()
