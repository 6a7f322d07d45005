"""A model's summary: its layers, their output shapes and parameter counts as a text table (Keras's summary)."""
from .shapes import input_shape


def summary_table(model):
    """The table of a Sequential (or anything with layers, num_parameters, loss, optimizer) as a string."""
    rows = [("#", "layer", "output shape", "params")]
    shape = input_shape(model.layers) if model.layers else ()
    for index, layer in enumerate(model.layers):
        shape = tuple(layer.output_shape(shape))
        shown = tuple("batch" if s is None and i == 0 else ("time" if s is None else s) for i, s in enumerate(shape))
        rows.append((str(index), repr(layer), str(shown).replace("'", ""), f"{layer.num_parameters():,}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"total parameters: {model.num_parameters():,}")
    if model.loss is not None:
        optimizer = f", optimizer: {model.optimizer.config()}" if model.optimizer else ""
        lines.append(f"loss: {model.loss.name}{optimizer}")
    return "\n".join(lines)
