"""A dropdown's empty choice speaks the page's language (Django's own label is not in its Chinese catalog)."""

import re


def _empty_choices(html):
    return re.findall(r'<option value=""[^>]*>([^<]*)</option>', html)


def test_the_empty_choice_of_a_dropdown_is_chinese_in_a_chinese_page(client, targets, personas):
    client.force_login(personas["alice"])
    html = client.get("/work/targets/%d/verify/" % targets["GC-0001"].pk).content.decode()
    assert "Select an option" not in html
    assert set(_empty_choices(html)) == {"— 请选择 —"}


def test_and_english_in_an_english_page(client, targets, personas):
    client.force_login(personas["alice"])
    html = client.get("/work/targets/%d/verify/" % targets["GC-0001"].pk, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert set(_empty_choices(html)) == {"— choose —"}
