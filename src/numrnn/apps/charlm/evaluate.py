"""A character model's loss on a text, in nats per character (bits = nats / ln 2).

    evaluate_ids(model, ids)                                 the one-stream figure, from segments read side by side
    evaluate_ids(model, ids, streams=1)                      the same figure, read in one pass (the reference)
    evaluate_ids(model, ids, streams=256, warmup=100, exact=False)   an estimate: the warm-ups taken as they are

The loss is the mean of -log p(next character) = -log_softmax(logits)[next] over every position with a next
character, what model.predict(ids[None]) gives. Read as one stream, a step multiplies each weight by one column,
so the weights stream from memory once per character; read as S segments side by side, a step multiplies them by
S columns. The figure stays the one-stream one:

    The positions are cut into S consecutive segments. Segment i > 0 first reads the `warmup` characters before it
    from a zero state (counted nowhere); then all S read their segments side by side, PIECE columns at a time,
    segment 0 from zeros at the start of the text, exactly as the one stream does.
    Segment i - 1 ends in the state at the position where segment i starts; segment i's warm-up reached a state for
    that same position from another start. Where the two agree (every number of every state tensor, an LSTM's
    cell state included, within TOLERANCE (1 + |x|)), the paths are one from there on and segment i reads as the
    one stream does. A segment whose states disagree (a model that remembers further back than its warm-up) is
    read again from the end state of the segment before it, until it reaches the state it had after one of its
    pieces (from there on it reads as it did), and again whenever that end state changed, until every boundary
    agrees: the figure of one stream up to float rounding, whatever the model; a model that never forgets costs
    up to S - 1 rounds of rereads.

The text is read in pieces with the state carried from one to the next (model.streaming()), so memory stays
bounded whatever its length.
"""
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ... import threads as blas
from ..._validate import check_positive_int
from ...functional import log_softmax

__all__ = ["LN2", "SEGMENTS", "WARMUP", "TOLERANCE", "PIECE", "evaluate_ids", "nll_rows"]

LN2 = math.log(2.0)
#: the default segments read side by side, and the characters each segment > 0 reads first (its warm-up)
SEGMENTS, WARMUP = 64, 200
#: how far a segment's warmed-up state may be from the state the segment before it ends in, for the segment to count
#: as read from that state: |a - b| <= TOLERANCE (1 + |b|) for every number of every state tensor
TOLERANCE = 1e-5
#: the columns read at a time when segments are read side by side: how often a segment read again is checked
PIECE = 64


def evaluate_ids(model, ids, streams=None, warmup=WARMUP, chunk_size=None, replicas=None, pool=None, exact=True,
                 tolerance=TOLERANCE, threads=1, report=None):
    """Mean -log p(ids[t + 1] | ids[:t + 1]) over t, in nats per character.

    streams: segments read side by side (default SEGMENTS, fewer for a short text); 1 reads the ids as one
    sequence in one pass. exact=True: each segment's warm-up is checked against the end of the segment before it,
    and reread from there where they differ (see the module docstring): the one-stream figure. exact=False: the
    warm-ups are taken as they are: an estimate, close for a model that forgets within `warmup` characters.
    replicas, pool: models with the model's weights (the model itself among them) and a thread pool; each replica
    reads a share of the segments on the pool (the trainer's workers). threads=N > 1 without them: N - 1 copies
    of the model (model.clone()) and a pool of N threads, made for this call.
    report: a dict that receives how the figure was computed (segments, warmup, rereads: the segments read again).
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if ids.size < 2:
        raise ValueError(f"evaluation needs at least 2 characters, got {ids.size}")
    streams = SEGMENTS if streams is None else check_positive_int("streams", streams)
    threads = check_positive_int("threads", threads)
    if not isinstance(warmup, (int, np.integer)) or isinstance(warmup, bool) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    if (not replicas or pool is None) and threads > 1 and streams > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="numrnn-evaluate") as own_pool:
            copies = [model] + [model.clone() for _ in range(threads - 1)]
            return evaluate_ids(model, ids, streams, warmup, chunk_size, copies, own_pool, exact, tolerance,
                                report=report)
    reader = _Reader(model, replicas, pool, chunk_size)
    with blas.for_model(model, min(streams, ids.size - 1), workers=reader.workers):
        total, how = _segments(reader, ids, streams, int(warmup), exact, tolerance, chunk_size or PIECE)
    if report is not None:
        report.update(how)
    return total / (ids.size - 1)


def _segments(reader, ids, streams, warmup, exact, tolerance, piece):
    """(the sum of -log p over every position, what was done) with the ids cut into segments (module docstring)."""
    count = ids.size - 1  # positions with a target
    length = -(-count // min(streams, count))
    streams = -(-count // length)  # no empty segment
    warmup = min(warmup, length) if streams > 1 else 0  # segment i > 0 starts at i * length >= warmup
    starts = np.arange(streams) * length
    positions = starts[:, None] + np.arange(length)[None, :]
    counted = positions < count
    columns = np.minimum(positions, count - 1)  # past the end: padding, never counted
    inputs, targets = ids[columns], ids[columns + 1]
    started = None  # zeros
    if warmup:  # segments 1.. from zeros over the characters before them; segment 0 from zeros at the start
        _, warmed = reader.read(ids[starts[1:, None] - warmup + np.arange(warmup)[None, :]])
        started = _join_rows(_zero_rows(warmed, 1), warmed)
    # side by side, `piece` columns at a time; the state after each piece is kept, so that a segment read again
    # stops where it reaches the state it had there (from that point on, it reads as it did)
    pieces = [slice(begin, begin + piece) for begin in range(0, length, piece)]
    sums, kept, state = np.zeros((streams, len(pieces))), [], started
    for index, window in enumerate(pieces):
        sums[:, index], state = reader.read(inputs[:, window], targets[:, window], counted[:, window], state)
        kept.append(state)
    rereads = reread = 0
    if exact and streams > 1:
        started = started if started is not None else _zero_rows(kept[-1], streams)
        # segment i reads as the one stream does once it starts where segment i - 1 ends; segment 0 always does,
        # so each round settles at least the first segment still in doubt: at most streams - 1 rounds
        for _ in range(streams - 1):
            ended = kept[-1]
            again = 1 + np.flatnonzero(~_rows_agree(_take_rows(started, slice(1, None)),
                                                    _take_rows(ended, slice(0, -1)), tolerance))
            if not again.size:
                break
            rereads += int(again.size)
            state = _take_rows(ended, again - 1)
            _put_rows(started, again, state)
            active = again
            for index, window in enumerate(pieces):
                sums[active, index], state = reader.read(inputs[active, window], targets[active, window],
                                                         counted[active, window], state)
                reread += int(active.size) * (window.indices(length)[1] - window.start)
                same = _rows_agree(state, _take_rows(kept[index], active), tolerance)
                _put_rows(kept[index], active, state)
                active, state = active[~same], _take_rows(state, ~same)
                if not active.size:
                    break
    return float(sums.sum()), {"segments": int(streams), "warmup": int(warmup), "rereads": rereads,
                               "reread_characters": reread, "exact": bool(exact or streams == 1)}


class _Reader:
    """Reads rows of ids side by side with the model, or in shares with its replicas on a pool."""

    def __init__(self, model, replicas, pool, chunk_size):
        self.models = list(replicas) if replicas and pool is not None else [model]
        self.pool, self.chunk_size = pool, chunk_size
        # the BLAS threads are set by the caller, in the calling thread, for the whole pool: numrnn.threads' limits
        # are the process's, and a worker thread setting and restoring them would undo another's
        self.workers = len(self.models)

    def read(self, inputs, targets=None, counted=None, state=None):
        """(per-row sums of -log p(target) over the counted positions, the rows' final states)."""
        shares = [rows for rows in np.array_split(np.arange(inputs.shape[0]), len(self.models)) if rows.size]
        if len(shares) == 1:
            return nll_rows(self.models[0], inputs, targets, counted, self.chunk_size, state)
        futures = [self.pool.submit(nll_rows, replica, inputs[rows], None if targets is None else targets[rows],
                                    None if counted is None else counted[rows], self.chunk_size,
                                    None if state is None else _take_rows(state, rows))
                   for replica, rows in zip(self.models, shares)]
        results = [future.result() for future in futures]
        return (np.concatenate([sums for sums, _ in results]),
                _join_rows(*(ended for _, ended in results)))


def nll_rows(model, inputs, targets=None, counted=None, chunk_size=None, state=None):
    """Rows of ids (rows, width) read side by side, in chunks with the state carried, from `state` (one tuple of
    (layers * directions, rows, hidden) arrays per recurrent layer of the model, as their carried_state; None:
    zeros). Returns (per row, the sum of -log p(target) over its `counted` positions, in float64 (zeros without
    targets, NaN after a state that overflowed); the final state, in the same form). The model's recurrent layers get back their state afterwards;
    the caller sets the BLAS threads (evaluate_ids does)."""
    rows, width = inputs.shape
    chunk_size = chunk_size or max(32, min(2048, 8192 // rows))
    sums = np.zeros(rows)
    if state is not None and not all(np.isfinite(t).all() for tensors in state for t in tensors):
        return sums + np.nan, state  # weights that overflowed: the loss after such a state is not a number either
    model.eval()
    recurrent = _recurrent_layers(model)
    # weights that training pushed far overflow here: the loss is then inf or NaN, which validation reports
    with model.streaming(), model.inference(), np.errstate(over="ignore", invalid="ignore"):
        if state is not None:
            for layer, tensors in zip(recurrent, state, strict=True):
                layer.carried_state = tensors if len(tensors) > 1 else tensors[0]
        for begin in range(0, width, chunk_size):
            window = slice(begin, begin + chunk_size)
            logits = model.forward(inputs[:, window])  # (T, B, V): a batch with a time axis runs time-major
            if targets is not None:
                sums += _nll_sums(logits, targets[:, window].T, counted[:, window].T)
        ended = [_as_tuple(layer.carried_state) for layer in recurrent]
    return sums, ended


def _nll_sums(logits, targets, counted):
    """Per row, the sum of -log softmax(logits)[target] (in float64) over the counted positions; logits (T, B, V)."""
    log_probs = log_softmax(logits.astype(np.float64))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return -np.where(counted, picked, 0.0).sum(axis=0)


# -- states: per recurrent layer a tuple of (layers * directions, rows, hidden) arrays ---------------------------------

def _recurrent_layers(model):
    return [layer for layer in model.layers if hasattr(layer, "carried_state")]


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def _take_rows(state, rows):
    return [tuple(tensor[:, rows] for tensor in tensors) for tensors in state]


def _put_rows(state, rows, values):
    for tensors, new in zip(state, values):
        for tensor, value in zip(tensors, new):
            tensor[:, rows] = value


def _join_rows(*states):
    return [tuple(np.concatenate(parts, axis=1) for parts in zip(*layer)) for layer in zip(*states)]


def _zero_rows(state, rows):
    return [tuple(np.zeros((t.shape[0], rows, t.shape[2]), dtype=t.dtype) for t in tensors) for tensors in state]


def _rows_agree(first, second, tolerance):
    """Per row: every number of every state tensor of `first` within tolerance (1 + |second's|) of `second`'s
    (NaN agrees with NaN, inf with inf)."""
    agree = None
    for tensors_a, tensors_b in zip(first, second):
        for a, b in zip(tensors_a, tensors_b):
            with np.errstate(invalid="ignore"):
                close = (a == b) | (np.abs(a - b) <= tolerance * (1 + np.abs(b))) | (np.isnan(a) & np.isnan(b))
            rows = close.all(axis=(0, 2))
            agree = rows if agree is None else agree & rows
    return agree
