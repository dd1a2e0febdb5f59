def test_public_page_lists_open_call_with_remaining_quota(client, make):
    call = make.call()
    make.application("awarded", call.voucher_type("travel"))
    page = client.get("/").get_data(as_text=True)
    assert call.title in page
    assert "Travel" in page and "€5,000.00" in page
    # 12 travel vouchers, one awarded: 11 remain
    assert '<td class="num">11</td>' in page
