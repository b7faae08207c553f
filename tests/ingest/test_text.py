import unicodedata

from ingest.text import fold, has_diacritics, normalize, tokenize, tokenize_folded


def test_nfd_input_becomes_nfc():
    nfd = unicodedata.normalize("NFD", "quản lý chất thải đô thị")
    assert nfd != "quản lý chất thải đô thị"
    assert normalize(nfd) == "quản lý chất thải đô thị"


def test_old_and_new_tone_placement_agree():
    assert normalize("hoà") == normalize("hòa") == "hòa"
    assert normalize("thuỷ") == normalize("thủy") == "thủy"
    assert normalize("khoẻ") == normalize("khỏe")
    assert normalize("Hoà Bình") == "Hòa Bình"


def test_tone_stays_where_no_variant_exists():
    for word in ["hoàng", "khuyến", "người", "quý", "giờ", "ngoài", "xoáy", "tuổi", "quả"]:
        assert normalize(word) == word


def test_detached_combining_marks_from_pdf_are_reattached():
    # PyMuPDF can emit "o" + space + combining hook; the word must come back whole.
    assert normalize("tho \u0309") == "thỏ"


def test_normalize_is_idempotent_and_keeps_non_vietnamese():
    for text in ["Net Zero 2050", "Hiroshima", "CO2", "hoà thuỷ", "café"]:
        assert normalize(normalize(text)) == normalize(text)
    assert normalize("Net Zero") == "Net Zero"
    # Foreign names with marks are not Vietnamese syllables: their marks stay put.
    assert normalize("Kraków") == "Kraków"
    assert normalize("Hà Nội và Kraków") == "Hà Nội và Kraków"


def test_fold_maps_d_stroke_and_strips_marks():
    assert fold("Đồng Nai") == "dong nai"
    assert fold("quản lý chất thải") == "quan ly chat thai"
    assert has_diacritics("đi") and not has_diacritics("di")


def test_tokenize_keeps_one_letter_syllables():
    assert tokenize("Ở đây, ý kiến: 2050!") == ["ở", "đây", "ý", "kiến", "2050"]
    assert tokenize_folded("Ở đây") == ["o", "day"]
