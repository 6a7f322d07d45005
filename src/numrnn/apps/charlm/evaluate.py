"""A character model's loss on a text, in nats per character (bits = nats / ln 2).

    evaluate_ids(model, ids)                        the exact figure: the ids read as one stream in one pass
    evaluate_ids(model, ids, streams=256, warmup=100)   a close estimate at a fraction of the time

The loss is the mean of -log p(next character) = -log_softmax(logits)[next] over every position with a next
character, what model.predict(ids[None]) gives. The text is read in chunks with the state carried from one to
the next (model.streaming()), so memory stays bounded whatever its length.
"""
import math

import numpy as np

from ... import threads
from ..._validate import check_positive_int
from ...functional import log_softmax

__all__ = ["LN2", "evaluate_ids", "nll_rows"]

LN2 = math.log(2.0)


def evaluate_ids(model, ids, streams=1, warmup=100, chunk_size=None, replicas=None, pool=None):
    """Mean -log p(ids[t + 1] | ids[:t + 1]) over t, in nats per character.

    streams=1: the exact figure, the ids read as one sequence in one pass (what model.predict(ids[None]) gives).
    streams=S > 1: the positions are cut into S consecutive slices read in parallel, each starting `warmup`
    characters early (those steps only set up its state and are not counted): a close estimate.
    replicas, pool: models with the model's weights (the model itself among them) and a thread pool; each
    replica reads a share of the slices on the pool (the trainer's workers).
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if ids.size < 2:
        raise ValueError(f"evaluation needs at least 2 characters, got {ids.size}")
    streams = check_positive_int("streams", streams)
    count = ids.size - 1  # positions with a target
    streams = min(streams, count)
    length = -(-count // streams)
    starts = np.arange(streams) * length
    first = np.maximum(starts - (warmup if streams > 1 else 0), 0)  # where each row starts reading
    stops = np.minimum(starts + length, count)
    width = int((stops - first).max())
    columns = first[:, None] + np.arange(width)[None, :]
    counted = (columns >= starts[:, None]) & (columns < stops[:, None])
    columns = np.minimum(columns, count - 1)  # past its stop a row reads padding, never counted
    inputs, targets = ids[columns], ids[columns + 1]
    if not replicas or pool is None:
        with threads.for_model(model, streams):
            return nll_rows(model, inputs, targets, counted, chunk_size) / count
    shares = [rows for rows in np.array_split(np.arange(streams), len(replicas)) if rows.size]
    # the BLAS threads are set here, in the calling thread, for the whole pool: numrnn.threads' limits are the
    # process's, and a worker thread setting and restoring them would undo another's
    with threads.for_model(model, streams, workers=len(shares)):
        futures = [pool.submit(nll_rows, replica, inputs[rows], targets[rows], counted[rows], chunk_size)
                   for replica, rows in zip(replicas, shares)]
        return sum(future.result() for future in futures) / count


def nll_rows(model, inputs, targets, counted, chunk_size=None):
    """Sum of -log p(target) over the `counted` positions of rows of ids (rows, width) read in parallel, in
    chunks with the state carried; the model's recurrent layers get back their state afterwards. The caller sets
    the BLAS threads (evaluate_ids does)."""
    rows, width = inputs.shape
    chunk_size = chunk_size or max(32, min(2048, 8192 // rows))
    total = 0.0
    model.eval()
    # weights that training pushed far overflow here: the loss is then inf or NaN, which validation reports
    with model.streaming(), model.inference(), np.errstate(over="ignore", invalid="ignore"):
        for begin in range(0, width, chunk_size):
            window = slice(begin, begin + chunk_size)
            logits = model.forward(inputs[:, window])  # (T, B, V): a batch with a time axis runs time-major
            total += _nll_sum(logits, targets[:, window].T, counted[:, window].T)
    return total


def _nll_sum(logits, targets, counted):
    """Sum of -log softmax(logits)[target] (in float64) over the counted positions; logits (T, B, V)."""
    log_probs = log_softmax(logits.astype(np.float64))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return float(-picked[counted].sum())
