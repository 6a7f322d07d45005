"""How a stack of layers runs, beyond training: forward only, or statefully over consecutive chunks of one long
sequence. numrnn.Sequential's inference(), streaming() and reset_states() are these, over its layers."""
import contextlib


@contextlib.contextmanager
def inference(layers):
    """Forward only inside (predict, evaluate, sampling): recurrent layers keep nothing for backward and build
    their derived weight copies once (see StackedRecurrent.inference)."""
    with contextlib.ExitStack() as stack:
        for layer in layers:
            if hasattr(layer, "inference"):
                stack.enter_context(layer.inference())
        yield


@contextlib.contextmanager
def streaming(layers):
    """Inside, the recurrent layers run statefully from zeros (each forward carries on from the last one's final
    state), and afterwards get back their mode and carried state: reading one long sequence in consecutive chunks
    (predict, a text model's evaluation and sampling) without disturbing a training pass."""
    layers = [layer for layer in layers if hasattr(layer, "carried_state")]
    saved = [(layer.stateful, layer.carried_state) for layer in layers]
    try:
        for layer in layers:
            layer.stateful = True
            layer.reset_states()
        yield
    finally:
        for layer, (stateful, carried) in zip(layers, saved):
            layer.stateful, layer.carried_state = stateful, carried


def reset_states(layers):
    """Forget the state carried by stateful recurrent layers (truncated BPTT over consecutive chunks)."""
    for layer in layers:
        if hasattr(layer, "reset_states"):
            layer.reset_states()
