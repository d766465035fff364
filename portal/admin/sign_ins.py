"""Admin Sign-ins: every attempt Entra's logs show for our app, filtered, keyset-paged and exported as CSV."""
from datetime import UTC, datetime

from flask import Response, render_template, request, stream_with_context

from portal import sign_in_pages
from portal.admin import bp
from portal.admin.audit_log import when_arg
from portal.admin.views_common import bounded_int
from portal.csv_export import csv_lines
from portal.entra.sign_in_logs import PLAIN_REASONS, plain_reason


def _filters() -> sign_in_pages.SignInFilters:
    args = request.args
    result = args.get("result") if args.get("result") in ("success", "failure") else None
    return sign_in_pages.SignInFilters(result=result, code=args.get("code", type=bounded_int),
                                 text=(args.get("q") or "").strip()[:200] or None,
                                 since=when_arg("since"), until=when_arg("until"))


@bp.route("/sign-ins")
def sign_ins():
    """Newest first, 50 a page, with the plain reason for every AADSTS code."""
    rows, cursor = sign_in_pages.sign_in_page(_filters(), request.args.get("before", type=bounded_int))
    return render_template("admin/sign_ins.html", rows=rows, next_cursor=cursor, args=request.args,
                           reasons=PLAIN_REASONS, plain=plain_reason)


@bp.route("/sign-ins/export.csv")
def sign_ins_export():
    """The current filter as CSV, streamed row by row."""
    body = csv_lines(stream_with_context(sign_in_pages.export_rows(_filters())), sign_in_pages.EXPORT_FIELDS)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="sign-ins-{stamp}.csv"'})
