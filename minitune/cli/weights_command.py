"""``minitune weights``: fetch, convert, export and inspect model weights.

    minitune weights fetch resnet18 [--url URL] [--dir DIR] [--no-progress] [--force]
    minitune weights convert IN.pth OUT.npz [--arch resnet18] [--categories auto|imagenet|none]
    minitune weights export IN.npz OUT.pth
    minitune weights info FILE [--all-keys]

``fetch`` downloads torchvision's ImageNet ResNet-18 (``IMAGENET1K_V1``; URL overridable with
``--url`` or ``$MINITUNE_WEIGHTS_URL``), checks its sha256 and converts it into the weights folder
(``$MINITUNE_WEIGHTS_DIR``, else ``weights/`` in a checkout).  Offline, it fails in one line that
says how to place a hand-downloaded file and convert it.
"""
import json

from ..io.convert import convert, describe, export, fetch_pretrained
from ..io.fetch import DIR_ENV, PRETRAINED, URL_ENV
from . import CLIError

ACTIONS = ["fetch", "convert", "export", "info"]


def no_action(args):
    raise CLIError(f"weights: no action given; choose one of: {', '.join(ACTIONS)} (see: minitune weights --help)")


def register(sub):
    p = sub.add_parser("weights", help="fetch, convert, export and inspect weights (.pth <-> .npz)")
    wsub = p.add_subparsers(dest="weights_command", metavar="ACTION")
    p.set_defaults(func=no_action)

    f = wsub.add_parser("fetch", help="download torchvision's ImageNet weights and convert them")
    f.add_argument("arch", nargs="?", default="resnet18", choices=sorted(PRETRAINED))
    f.add_argument("--url", default=None, help=f"download from here instead (default: ${URL_ENV} or torchvision's URL)")
    f.add_argument("--dir", default=None, help=f"weights folder (default: ${DIR_ENV} or weights/ in a checkout)")
    f.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    f.add_argument("--force", action="store_true", help="download again even if a matching file is there")
    f.set_defaults(func=run_fetch)

    c = wsub.add_parser("convert", help="convert a torch .pth/.pt (any torch.save layout) to minitune's .npz")
    c.add_argument("src")
    c.add_argument("dst")
    c.add_argument("--arch", default=None, help="architecture name (default: recognised from the keys)")
    c.add_argument("--categories", default="auto", choices=["auto", "imagenet", "none"],
                   help="attach class names: auto = the ImageNet names for a 1000-way head")
    c.set_defaults(func=run_convert)

    e = wsub.add_parser("export", help="write a .npz (or .pth) as a zip .pth that torch.load reads")
    e.add_argument("src")
    e.add_argument("dst")
    e.set_defaults(func=run_export)

    i = wsub.add_parser("info", help="architecture, parameter count, keys and shapes, sha256, metadata")
    i.add_argument("file")
    i.add_argument("--all-keys", action="store_true", help="list every key (default: at most 20)")
    i.set_defaults(func=run_info)


def run_fetch(args):
    path = fetch_pretrained(args.arch, url=args.url, directory=args.dir,
                                     progress=not args.no_progress, force=args.force)
    print(f"wrote {path}")
    return 0


def run_convert(args):
    path, meta = convert(args.src, args.dst, arch=args.arch, categories=args.categories)
    classes = f", {len(meta['categories'])} class names" if meta.get("categories") else ""
    print(f"wrote {path}: {meta['architecture']}, {meta['num_classes']} classes, "
          f"{meta['num_params']:,} parameters{classes}")
    return 0


def run_export(args):
    path = export(args.src, args.dst)
    print(f"wrote {path}")
    return 0


def run_info(args):
    info = describe(args.file)
    meta = dict(info["metadata"])
    categories = meta.pop("categories", None)
    print(f"file:         {info['file']}")
    print(f"sha256:       {info['sha256']}")
    print(f"architecture: {info['architecture']}")
    print(f"parameters:   {info['num_params']:,}")
    print(f"keys:         {info['num_keys']}")
    keys = info["keys"] if args.all_keys else info["keys"][:20]
    for name, shape, dtype in keys:
        print(f"  {name:<40} {str(list(shape)):<18} {dtype}")
    if len(keys) < info["num_keys"]:
        print(f"  … {info['num_keys'] - len(keys)} more (--all-keys lists them)")
    if meta:
        print("metadata:     " + json.dumps(meta, sort_keys=True))
    if categories:
        print(f"categories:   {len(categories)}: {', '.join(categories[:5])}, …")
    return 0
