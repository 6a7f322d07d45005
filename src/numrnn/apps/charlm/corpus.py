"""A character model's data: the text, its vocabulary, the ids, the 90/10 split and the streams of truncated BPTT.

The vocabulary is the text's distinct characters, sorted, so the same text always gives the same ids. The first
90% of the ids train, the last 10% validate. The training ids t_0 .. t_{N-1} are cut into B parallel streams of
n = (N - 1) // B characters each, targets shifted by one,

    inputs  X[b, j] = t_{b n + j}        targets  Y[b, j] = t_{b n + j + 1}        b < B, j < n

and one pass walks the streams in consecutive chunks of `steps` columns (char-rnn's layout): chunk k + 1 of a
stream continues chunk k, which is what lets a stateful model carry its state from one chunk to the next.

Two other readings (the option `reading`), for a large model that learns by heart the same (state, chunk) pairs
met pass after pass: "offset" reads each pass's text rotated by an offset o drawn from the seed and the pass,
t_o .. t_{N-1} t_0 .. t_{o-1}, cut the same way (the one pair t_{N-1} -> t_0 where the ends join is read as any
other); "windows" reads each step B windows of `steps` + 1 characters at random places, each from a zero state
(torch's usual way). The README's table measures them.
"""
import math
import os
import stat

import numpy as np

from ... import data
from ..._validate import check_positive_int

__all__ = ["VALIDATION_FRACTION", "READINGS", "default_corpus", "read_text", "build_vocab", "encode", "decode",
           "split_ids", "make_streams", "pass_offset", "random_windows", "iterate_chunks"]

VALIDATION_FRACTION = 0.1
#: how training reads the text (the option `reading`): the streams as they are, pass after pass; the streams of
#: each pass read from a random offset; or random windows, each read from a zero state
READINGS = ("streams", "offset", "windows")


def default_corpus():
    """The path of the Tiny Shakespeare text shipped with numrnn (1,115,394 characters)."""
    return os.path.join(os.path.dirname(os.path.abspath(data.__file__)), "tinyshakespeare.txt")


def read_text(path):
    """The whole file as a str (UTF-8); ValueError if it is empty or not UTF-8 text, OSError if unreadable."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not a text file")
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path} is not a regular file (a FIFO, socket or device would never end)")
    try:
        with open(path, encoding="utf-8", newline="") as stream:  # every character as it is, "\r" included
            text = stream.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such text file: {path}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not text:
        raise ValueError(f"{path} is empty: a text model needs characters to learn from")
    return text


def build_vocab(text):
    """The distinct characters of `text`, sorted: the same text always gives the same ids."""
    if not isinstance(text, str) or not text:
        raise ValueError("the text must be a non-empty str")
    return sorted(set(text))


def _code_points(text):
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def encode(text, vocab):
    """Character ids (int64) of `text` under `vocab`; ValueError naming the characters the vocabulary lacks."""
    points = _code_points(text)
    table = _code_points("".join(vocab))
    order = np.argsort(table, kind="stable")
    position = np.searchsorted(table, points, sorter=order)
    position = np.minimum(position, len(table) - 1)
    ids = order[position]
    unknown = table[ids] != points
    if unknown.any():
        missing = sorted(set(chr(c) for c in points[unknown]))
        shown = ", ".join(repr(c) for c in missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise ValueError(f"{len(missing)} distinct character{'s' if len(missing) > 1 else ''} not in the model's "
                         f"vocabulary of {len(vocab)}: {shown}")
    return ids.astype(np.int64)


def decode(ids, vocab):
    return "".join(vocab[int(i)] for i in np.asarray(ids).reshape(-1))


def split_ids(ids, fraction=VALIDATION_FRACTION):
    """(train, validation): the first 90% of the ids and the last 10% (validation gets the odd character)."""
    count = len(ids)
    split = count - int(math.ceil(count * fraction - 1e-9))
    return ids[:split], ids[split:]


def make_streams(ids, batch, offset=0):
    """(X, Y), each (batch, n): `batch` consecutive slices of the ids, n = (len(ids) - 1) // batch, Y shifted by 1;
    offset: the ids read from there, round to their start (the module docstring)."""
    batch = check_positive_int("batch", batch)
    if offset:
        ids = np.concatenate((ids[offset:], ids[:offset]))
    length = (len(ids) - 1) // batch
    if length < 1:
        raise ValueError(f"the training text has {len(ids)} characters, too few for {batch} streams "
                         f"(--batch {batch} needs at least {batch + 1}); use a smaller --batch or a longer text")
    inputs = np.ascontiguousarray(ids[:length * batch].reshape(batch, length))
    targets = np.ascontiguousarray(ids[1:length * batch + 1].reshape(batch, length))
    return inputs, targets


def pass_offset(count, seed, epoch):
    """Where pass `epoch` of a run seeded `seed` starts reading `count` training ids (reading="offset"): a
    function of the seed and the pass alone, so that a resumed run reads what the run it continues would have."""
    return int(np.random.default_rng([int(seed) % 2 ** 63, int(epoch), 0x0FF5E7]).integers(count))


def random_windows(inputs, targets, batch, steps, seed, step):
    """(x, y) (batch, steps): the windows of step `step` (reading="windows") from inputs/targets (1, N - 1), the
    ids and their next ones; their places are a function of the seed and the step alone (exact resume)."""
    count = inputs.shape[1]
    starts = np.random.default_rng([int(seed) % 2 ** 63, int(step), 0x3179D0]).integers(max(1, count - steps + 1),
                                                                                          size=batch)
    index = starts[:, None] + np.arange(min(steps, count))
    return inputs[0, index], targets[0, index]


def iterate_chunks(inputs, targets, steps):
    """Consecutive (x, y) chunks of `steps` columns of the streams, in order; the last may be shorter."""
    steps = check_positive_int("steps", steps)
    for start in range(0, inputs.shape[1], steps):
        yield inputs[:, start:start + steps], targets[:, start:start + steps]
