"""Learning-rate schedules, written once: the factor by which the base learning rate is multiplied, as a function of
how far training has gone, `progress` in [0, 1] (epochs done / epochs, steps done / steps, seconds / budget).

    constant   f(p) = 1
    linear     f(p) = 1 - (1 - floor) p                               from 1 down to `floor`
    cosine     f(p) = floor + (1 - floor) (1 + cos(pi p)) / 2         SGDR without restarts, down to `floor`
    warm-up    f(p) * min(1, p / warmup) for p < warmup               a linear ramp from 0 over the first `warmup`

    schedule = get_schedule("cosine", floor=0.1, warmup=0.05)
    optimizer.lr = base_lr * schedule(progress)

fit takes one through numrnn.callbacks.LearningRateScheduler (per epoch); the character model's trainer calls
one at every step with its own progress.
"""
import math

from ._validate import check_choice

NAMES = ("constant", "linear", "cosine")


class Schedule:
    """The factor f(progress) of one of NAMES, with a floor and a linear warm-up."""

    def __init__(self, name="constant", *, floor=0.0, warmup=0.0):
        self.name = check_choice("schedule", name, NAMES)
        self.floor = _fraction("floor", floor)
        self.warmup = _fraction("warmup", warmup)

    def __call__(self, progress):
        progress = min(max(float(progress), 0.0), 1.0)
        if self.name == "constant":
            factor = 1.0
        elif self.name == "linear":
            factor = 1.0 - (1.0 - self.floor) * progress
        else:
            factor = self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
        if self.warmup and progress < self.warmup:
            factor *= progress / self.warmup
        return factor

    def config(self):
        return {"name": self.name, "floor": self.floor, "warmup": self.warmup}

    def __repr__(self):
        return f"Schedule({self.name!r}, floor={self.floor}, warmup={self.warmup})"


def get_schedule(schedule="constant", **kwargs):
    """A Schedule from an instance (returned as is), a name (with floor=, warmup=) or a config dict."""
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, dict):
        return Schedule(**{**schedule, **kwargs})
    return Schedule(schedule, **kwargs)


def _fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)
