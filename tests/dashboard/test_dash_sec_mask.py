"""Masking of personal numbers in 95598 ticket text (dashboard/privacy.py), with literal examples,
and the markdown links of the grids (hostile ids shown literally)."""

from __future__ import annotations

import pytest

from dashboard.privacy import mask, shown, shown_frame


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("客户电话13812345678反映电压低", "客户电话138****5678反映电压低"),
        ("+8619912345678", "+86199****5678"),
        ("138-1234-5678", "138****5678"),
        ("0531-88886666", "0531-****6666"),
        ("010-12345678转8", "010-****5678转8"),
        ("(0531)8888666", "(0531)****8666"),
        ("370102199001011234", "3701**********1234"),
        ("身份证37010219900101123X。", "身份证3701**********123X。"),
        ("37010219900101123x", "3701**********123x"),
        ("370102900101123", "3701*******1123"),
        (
            "电话13812345678，身份证370102199001011234，座机0531-88886666",
            "电话138****5678，身份证3701**********1234，座机0531-****6666",
        ),
    ],
)
def test_mask001_examples(raw, masked):
    assert mask(raw) == masked


@pytest.mark.parametrize(
    "kept",
    [
        "",
        "工单 2025-07-01 10:32 城关镇停电",
        "12345678",
        "F0101",
        "10kV 城关线 #3",
        "订单号2024010112345678901234",  # too long to be an ID card or a phone
        "电压198V，持续3小时",
        "12812345678",  # 12x is not a mobile prefix
    ],
)
def test_mask002_other_text_unchanged(kept):
    assert mask(kept) == kept


def test_mask003_roles_and_exports():
    import pandas as pd

    text = "回电13812345678"
    assert shown(text, "admin") == text
    assert shown(text, "viewer") == "回电138****5678"
    assert shown(text, None.__class__.__name__) == "回电138****5678"  # unknown role: masked
    assert shown(text, "admin", export=True) == "回电138****5678"  # exports always masked
    assert mask(None) is None and mask(3.5) == 3.5
    df = pd.DataFrame({"ticket_id": ["T1"], "text": [text], "address": ["0531-88886666"]})
    out = shown_frame(df, role="viewer")
    assert out.loc[0, "text"] == "回电138****5678" and out.loc[0, "address"] == "0531-****6666"
    assert df.loc[0, "text"] == text  # the input is not changed
    assert shown_frame(df, role="admin").loc[0, "text"] == text
    assert shown_frame(df, role="admin", export=True).loc[0, "text"] == "回电138****5678"


def test_mask004_priorities_export_masked(app):
    from dashboard.pages.priorities import export_frame

    df = export_frame([{"feeder": "F1", "name": "联系13812345678", "rank": 1}], "feeder", "en")
    assert "138****5678" in df.to_csv() and "13812345678" not in df.to_csv()


def test_mask005_markdown_links_literal():
    from dashboard.components.common import md_link, md_link_js

    assert md_link("F0101", "/feeder/") == "[F0101](/feeder/F0101)"
    hostile = "x](javascript:alert(1))<img src=x onerror=alert(1)>"
    link = md_link(hostile, "/feeder/")
    label, target = link[1:].split("](/feeder/", 1)
    assert "<" not in label.replace("\\<", "") and "javascript:" not in target
    assert target.endswith(")") and "(" not in target and " " not in target
    assert md_link(None, "/feeder/") == ""
    js = md_link_js("feeder", "/feeder/")
    assert "encodeURIComponent" in js and ".replace(" in js


# --- issue 16: the forms that got through -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width (Chinese input methods)
        ("ID370102199001011234", "ID3701**********1234"),  # glued to letters
        ("138.1234.5678", "138****5678"),
        ("NO13812345678x", "NO138****5678x"),
        ("电话：１３８－１２３４－５６７８。", "电话：１３８****５６７８。"),
        ("３７０１０２１９９００１０１１２３Ｘ", "３７０１**********１２３Ｘ"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("卡号6222 0212 3456 7890退款", "卡号6222 ********7890退款"),
        ("card6222021234567890123", "card6222***********0123"),
        ("13812345678 370102199001011234", "138****5678 3701**********1234"),
    ],
)
def test_mask006_full_width_separators_glued(raw, masked):
    assert mask(raw) == masked


FULL = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
SEPARATORS = [" ", ".", "-", "．", "－", "\u3000"]
HALF = str.maketrans({"\u3000": " ", "．": ".", "－": "-", "Ｘ": "X", "ｘ": "x"})


def _numbers():
    from hypothesis import strategies as st

    digits = st.text("0123456789", min_size=1, max_size=1)

    def fixed(prefix, n):
        return st.lists(digits, min_size=n, max_size=n).map(lambda ds: prefix + "".join(ds))

    mobile = st.tuples(st.sampled_from("3456789"), fixed("", 9)).map(lambda t: "1" + t[0] + t[1])
    id18 = st.tuples(fixed("", 17), st.sampled_from("0123456789X")).map("".join)
    id15 = fixed("", 15)
    card = st.integers(16, 19).flatmap(lambda n: fixed("62", n - 2))
    landline = st.tuples(st.sampled_from(["010", "021", "0531", "0755"]), fixed("", 8)).map("".join)
    return st.one_of(mobile, id18, id15, card, landline)


def test_mask007_property_every_written_form_is_masked():
    """Any phone, ID-card or bank-card number, in half- or full-width digits, with single
    separators anywhere and letters or Chinese glued around it, never shows through whole."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        number=_numbers(),
        widths=st.lists(st.booleans(), min_size=19, max_size=19),
        seps=st.lists(st.sampled_from([None, None, None, *SEPARATORS]), min_size=19, max_size=19),
        before=st.sampled_from(["", "ID", "NO", "电话", "客户", "卡号：", "x"]),
        after=st.sampled_from(["", "x", "X", "号", "反映电压低", " 谢谢", "。"]),
    )
    def check(number, widths, seps, before, after):
        written = ""
        for i, ch in enumerate(number):
            written += ch.translate(FULL) if widths[i] else ch
            if i < len(number) - 1 and seps[i]:
                written += seps[i]
        out = mask(before + written + after)
        plain = "".join(c for c in out.translate(FULL_BACK).translate(HALF) if c not in " .-")
        assert number not in plain, (written, out)
        assert "****" in out or "*******" in out, (written, out)

    check()


FULL_BACK = str.maketrans("０１２３４５６７８９", "0123456789")
