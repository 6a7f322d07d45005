"""A dataset's metrics from its batches': each batch's means weighted by its number of target positions, so that a
dataset's mean loss is the mean over all its positions whatever the batching. A summed loss (reduction="sum")
just adds up. evaluate and fit both average this way.

    mean = BatchMean(summed=("loss",) if loss.reduction == "sum" else ())
    mean.add(logs, positions)  ...  mean.result()
"""


class BatchMean:
    """The running weighted mean of batches' logs (keys in `summed` add up instead; "grad_norm" is skipped)."""

    def __init__(self, summed=()):
        self.summed = tuple(summed)
        self.totals, self.weight = {}, 0

    def add(self, logs, positions):
        for key, value in logs.items():
            if key != "grad_norm":
                self.totals[key] = self.totals.get(key, 0.0) + value * (1 if key in self.summed else positions)
        self.weight += positions

    def result(self):
        return {key: value if key in self.summed else value / self.weight for key, value in self.totals.items()}

    def state_dict(self):
        return {"totals": dict(self.totals), "weight": self.weight}

    def load_state_dict(self, state):
        self.totals, self.weight = dict(state["totals"]), state["weight"]
