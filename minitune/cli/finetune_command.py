"""``minitune finetune``: placeholder until the fine-tuning loop lands."""


def register(sub):
    p = sub.add_parser("finetune", help="fine-tune ResNet-18 on an image folder (default: the built-in synthetic set)")
    p.set_defaults(func=run)


def run(args):
    print("minitune finetune: not yet implemented")
    return 0
