"""``yingshe studio``: the interactive web studio (Gradio), on 127.0.0.1 unless asked otherwise."""

from __future__ import annotations

import argparse
import sys

from yingshe.core.errors import BadInput

DESCRIPTION = """\
Open a web page with one tab per mapping (controls generated from each recipe), live previews
for the fast generators, progress and a Stop button for long jobs, and a gallery of what you
made (browse, download, recreate, load settings back from any yingshe PNG).

Serves only on this machine (127.0.0.1) unless --host says otherwise; no public link unless
--share. Only files under the output folder are served."""

EPILOG = """\
examples:
  yingshe studio                                 then open http://127.0.0.1:7860
  yingshe studio --port 8080 --output ~/art
  yingshe studio --host 0.0.0.0 --auth me:secret  reachable on your network, with a password
  yingshe studio --concurrency 2                 two jobs at once (a GPU, or many cores)"""


def add_commands(sub) -> None:
    p = sub.add_parser("studio", help="open the interactive web studio (needs the `studio` extra)",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7860, help="port to serve on [default: 7860]")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind; 0.0.0.0 exposes the studio to your network [default: 127.0.0.1]")
    p.add_argument("--auth", metavar="USER:PASS", default=None, help="require this user name and password")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    p.add_argument("--concurrency", type=int, default=1, metavar="N",
                   help="jobs run at once; others wait in a queue [default: 1, right for a CPU]")
    p.add_argument("--output", "-o", default=None, metavar="DIR",
                   help="where artworks are saved and the only folder served [default: the gallery folder]")
    p.add_argument("--max-upload-mb", type=float, default=25, metavar="MB", help="largest upload [default: 25]")
    p.add_argument("--max-upload-pixels", type=int, default=40_000_000, metavar="N",
                   help="largest upload in pixels [default: 40,000,000]")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch [default: torch's choice]")
    p.set_defaults(func=cmd_studio)


def parse_auth(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise BadInput("--auth must be USER:PASS, both non-empty")
    return user, password


def cmd_studio(args) -> int:
    auth = parse_auth(args.auth)
    if not 1 <= args.port <= 65535:
        raise BadInput(f"--port must be between 1 and 65535; got {args.port}")
    if not 1 <= args.concurrency <= 64:
        raise BadInput(f"--concurrency must be between 1 and 64; got {args.concurrency}")
    if args.max_upload_mb <= 0 or args.max_upload_pixels <= 0:
        raise BadInput("--max-upload-mb and --max-upload-pixels must be positive")
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise BadInput('the studio needs Gradio: pip install "yingshe[studio]"') from None
    from yingshe.core.paths import gallery_dir
    from yingshe.studio.app import launch

    output = args.output or str(gallery_dir())
    if args.host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        print("yingshe: warning: the studio is reachable from other machines without --auth", file=sys.stderr)
    print(f"yingshe studio: serving {output} on http://{args.host}:{args.port} (Ctrl-C to stop)", file=sys.stderr)
    launch(output, host=args.host, port=args.port, share=args.share, auth=auth, concurrency=args.concurrency,
           max_upload_mb=args.max_upload_mb, max_upload_pixels=args.max_upload_pixels, threads=args.threads)
    return 0
