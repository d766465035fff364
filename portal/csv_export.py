"""CSV exports (audit log, sign-ins, sync changes): streamed in chunks of rows, with spreadsheet formulas
neutralised (CSV injection)."""
import csv
import io
import json
import unicodedata
from itertools import islice

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # compared after NFKC, so fullwidth ＝ counts too
BLANKS = " \n\u200b\u200c\u200d\u2060\ufeff"  # leading blanks some spreadsheets skip before a formula
# An ASCII first character outside this set needs no closer look: NFKC leaves ASCII as it is, and what it composes
# with a following mark is a letter, never a formula start. Most cells take this short way.
RISKY_ASCII = frozenset("=+-@\t\r \n")
ROWS_PER_CHUNK = 1000


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading quote, so it is shown, not evaluated."""
    if value.__class__ is not str or not value or (value[0] < "\x80" and value[0] not in RISKY_ASCII):
        return value
    if unicodedata.normalize("NFKC", value.lstrip(BLANKS)[:2])[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_chunks(fields, batches):
    """The header, then one chunk of CSV text per batch of rows (sequences of cells in `fields` order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    for batch in batches:
        writer.writerows([[neutralise(cell) for cell in row] for row in batch])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()  # nothing matched: the header alone


def csv_lines(rows, fields):
    """Dict rows as CSV text in chunks of ROWS_PER_CHUNK rows; a 'detail' field is written as JSON."""
    cells = ([json.dumps(row[f], ensure_ascii=False) if f == "detail" else row[f] for f in fields] for row in rows)
    return csv_chunks(fields, iter(lambda: list(islice(cells, ROWS_PER_CHUNK)), []))
