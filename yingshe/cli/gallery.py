"""``yingshe gallery list|show|search|check``: the SQLite record of everything you made."""

from __future__ import annotations

import argparse
import json


KINDS = ("image", "vector", "video", "audio", "midi", "text")  # yingshe.core.media.KINDS (no import: fast --help)


def _count(text: str) -> int:
    """A row count for argparse: a whole number of at least 1 (argparse turns the error into exit 2)."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (a whole number of at least 1)")
    return n


def add_commands(sub) -> None:
    p = sub.add_parser("gallery", help="list, show, search and check your saved artworks",
                       description="Every saved artwork gets a row in the gallery database "
                                   "($YINGSHE_HOME/gallery.sqlite3).")
    g = p.add_subparsers(dest="gallery_command", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda a: p.print_help() or 0)

    q = g.add_parser("list", help="newest artworks first")
    q.add_argument("--mapping", help="only this mapping (e.g. style)")
    q.add_argument("--kind", choices=KINDS, help="only this kind of file (image, video, audio, midi, text, vector)")
    q.add_argument("--limit", type=_count, default=50, help="at most N rows [default: 50]", metavar="N")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)

    q = g.add_parser("show", help="one artwork's full record")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_show)

    q = g.add_parser("search", help="artworks whose path, mapping, recipe or inputs contain TEXT "
                                    "(--semantic: pictures that look like TEXT, by our CLIP)")
    q.add_argument("text")
    q.add_argument("--mapping")
    q.add_argument("--kind", choices=KINDS)
    q.add_argument("--semantic", action="store_true",
                   help="rank pictures by how well they match TEXT in meaning (our CLIP, offline), "
                        "not by the words in their recipes")
    q.add_argument("--among", type=_count, default=2000, metavar="N",
                   help="with --semantic: search the newest N pictures [default: 2000]")
    q.add_argument("--limit", type=_count, default=50, help="at most N rows [default: 50]", metavar="N")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_search)

    q = g.add_parser("check", help="find rows whose file is missing or changed (--repair fixes them)")
    q.add_argument("--repair", action="store_true", help="drop rows of missing files; re-fingerprint changed ones")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_check)


def _print_rows(rows, as_json: bool) -> None:
    if as_json:
        print(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        print("(no artworks)")
        return
    for r in rows:
        size = f"{r.width}x{r.height}" if r.width else ""
        length = f"{r.duration:.1f} s" if r.duration is not None else ""
        print(f"#{r.id:<5} {r.created[:19]}  {r.kind:<6} {r.mapping:<13} {size:>9} {length:>8}  seed={r.seed}  {r.path}")


def cmd_list(args) -> int:
    from yingshe.core.gallery import Gallery

    with Gallery.open() as g:
        _print_rows(g.list(mapping=args.mapping, kind=args.kind, limit=args.limit), args.json)
    return 0


def cmd_show(args) -> int:
    from yingshe.core.gallery import Gallery

    with Gallery.open() as g:
        row, record = g.get(args.id)
    print(json.dumps({"id": row.id, "path": row.path, "sha256": row.sha256, "record": record},
                     indent=2, ensure_ascii=False))
    return 0


def cmd_search(args) -> int:
    from yingshe.core.gallery import Gallery

    with Gallery.open() as g:
        if not args.semantic:
            _print_rows(g.search(args.text, mapping=args.mapping, kind=args.kind, limit=args.limit), args.json)
            return 0
        rows = g.list(mapping=args.mapping, kind="image", limit=args.among)
    from yingshe.diffusion.search import search_rows

    hits = search_rows(args.text, rows, top=args.limit)
    if args.json:
        print(json.dumps([r.as_dict() | {"similarity": s} for r, s in hits], indent=2, ensure_ascii=False))
    elif not hits:
        print("(no pictures)")
    for r, s in hits if not args.json else []:
        print(f"{s:+.3f}  #{r.id:<5} {r.mapping:<13} {r.path}")
    return 0


def cmd_check(args) -> int:
    from yingshe.core.gallery import Gallery

    with Gallery.open() as g:
        report = g.check(repair=args.repair)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['rows']} rows; missing files: {report['missing'] or 'none'}; "
              f"changed files: {report['changed'] or 'none'}" + ("; repaired" if args.repair else ""))
    return 0 if args.repair or not (report["missing"] or report["changed"]) else 1
