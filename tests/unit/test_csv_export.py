"""The CSV export's formula check: its short way for plain ASCII answers as the full NFKC check does."""
import unicodedata

from portal.csv_export import BLANKS, FORMULA_STARTS, csv_lines, neutralise


def full_check(value):
    """The check written out, with no short way: NFKC of the first characters after leading blanks."""
    if isinstance(value, str) and unicodedata.normalize("NFKC", value.lstrip(BLANKS)[:2])[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def test_the_short_way_agrees_with_the_full_check():
    """Every first character up to U+3100 (fullwidth forms aside, checked below), alone and before a combining mark,
    a blank or a formula sign."""
    seconds = ("", "a", "=", "\u0338", "\u0301", " ", "\u200b", "\uff1d", "\t")
    firsts = [chr(c) for c in range(0x3100)] + [chr(c) for c in range(0xFF00, 0xFF70)] + ["", " =", "\u200b+1"]
    for first in firsts:
        for second in seconds:
            value = first + second
            assert neutralise(value) == full_check(value), repr(value)
    for value in (None, 5, -3, 1.5, True):
        assert neutralise(value) == value


def test_rows_are_written_in_chunks_with_formulas_neutralised():
    """Dict rows come out as CSV text a chunk at a time; 'detail' is JSON, other text is checked."""
    rows = [{"name": "=SUM(A1)", "detail": {"k": "＝x"}}, {"name": "plain", "detail": {}}] * 700
    chunks = list(csv_lines(iter(rows), ("name", "detail")))
    text = "".join(chunks)
    assert len(chunks) == 2 and text.startswith("name,detail\r\n'=SUM(A1),")
    assert text.count("'=SUM(A1)") == 700 and '"{""k"": ""＝x""}"' in text
    assert list(csv_lines(iter([]), ("name",))) == ["name\r\n"]
