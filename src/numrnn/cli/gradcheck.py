"""`numrnn gradcheck`: a small float64 recurrent layer's hand-written gradients against central differences.

Prints the relative error of every tensor; exit status 1 if any exceeds --tolerance.
"""
from ..apps.gradcheck import check_gradients
from .common import EXIT_FAILED, EXIT_OK

__all__ = ["run"]


def run(args):
    errors = check_gradients(cell=args.cell, nonlinearity=args.nonlinearity, layers=args.layers, hidden=args.hidden,
                             input_size=args.input_size, steps=args.steps, batch=args.batch,
                             bptt_truncate=args.bptt_truncate, bidirectional=args.bidirectional,
                             bias=not args.no_bias, return_sequences=not args.last_only, seed=args.seed)
    mode = "full BPTT" if args.bptt_truncate is None else \
        f"BPTT truncated at {args.bptt_truncate} (against the brute-force truncated gradient)"
    what = f"{args.cell.upper()}" + (f" {args.nonlinearity or 'tanh'}" if args.cell == "rnn" else "")
    print(f"gradcheck: {what}, {args.layers} layer(s), hidden {args.hidden}, input {args.input_size}, "
          f"{args.steps} steps, batch {args.batch}, {mode}; float64, central differences")
    width = max(len(name) for name in errors)
    failed = []
    for name, error in errors.items():
        ok = error <= args.tolerance
        if not ok:
            failed.append(name)
        print(f"  {name.ljust(width)}  {error:.3e}  {'ok' if ok else 'FAIL'}")
    if failed:
        print(f"{len(failed)} of {len(errors)} tensors exceed the tolerance {args.tolerance:g}: {', '.join(failed)}")
        return EXIT_FAILED
    print(f"all {len(errors)} tensors within {args.tolerance:g}")
    return EXIT_OK
