"""The next symbol mod 3 (tutorial 001): one-hot x_t in {0, 1, 2}, target (x_t + 1) mod 3 at every step.

Its metrics are the accuracy on new sequences of the training length T and five times longer; its plots add the
accuracy at each time step.
"""
from ... import data
from ...random import get_rng
from .base import Task, accuracy_per_step

__all__ = ["Mod3Task", "normal_init"]


class Mod3Task(Task):
    name = "mod3"
    title = "predict (x_t + 1) mod 3 at every step (tutorial 001)"
    target = "100% accuracy on new sequences of length T and 5T"
    classification = True
    input_size, output_size = 3, 3

    def preset_settings(self, preset):
        if preset == "tutorial":
            # 10 sequences of length 10, hidden 10, tanh, full BPTT, summed loss, SGD lr 1e-4, one sequence per
            # update, standard-normal initial weights; the tutorial never finished its training loop, so the
            # number of epochs is ours
            return {"hidden": 10, "epochs": 100, "batch_size": 1, "train_size": 10, "steps": 10, "optimizer": "sgd",
                    "lr": 1e-4, "loss_reduction": "sum", "init": "tutorial", "dtype": "float64"}
        return {"hidden": 16, "epochs": 20, "batch_size": 32, "train_size": 500, "steps": 10, "lr": 0.01}

    def datasets(self, settings):
        seed, steps, dtype = settings["seed"], settings["steps"], settings["dtype"]
        return {"train": data.mod3(settings["train_size"], steps, seed=seed, dtype=dtype),
                "validation": data.mod3(200, steps, seed=seed + 1, dtype=dtype)}

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial":
            normal_init(model)

    def metrics(self, model, settings, data_sets=None):
        steps = settings["steps"]
        metrics = {}
        for label, length in (("T", steps), ("5T", 5 * steps)):
            X, y = data.mod3(1000, length, seed=settings["seed"] + 2, dtype=model.dtype)
            per_step = accuracy_per_step(model, X, y)
            metrics[f"accuracy_{label}"] = float(per_step.mean())
            metrics[f"accuracy_per_step_{label}"] = per_step.tolist()
        metrics["length_T"] = steps
        return metrics

    def target_met(self, metrics):
        return metrics["accuracy_T"] == 1.0 and metrics["accuracy_5T"] == 1.0

    def describe(self, metrics):
        return (f"accuracy {100 * metrics['accuracy_T']:.2f}% at T={metrics['length_T']}, "
                f"{100 * metrics['accuracy_5T']:.2f}% at 5T={5 * metrics['length_T']}")

    def per_step_curves(self, metrics):
        steps = metrics["length_T"]
        return {f"new sequences, T = {steps}": metrics["accuracy_per_step_T"],
                f"5x longer, T = {5 * steps}": metrics["accuracy_per_step_5T"]}


def normal_init(model):
    """Standard-normal weights and biases, as tutorial 001 (np.random.randn); its single hidden bias is b_ih."""
    rng = get_rng()
    for layer in model.layers:
        for name, value in layer.params.items():
            value[...] = 0.0 if name.startswith("bias_hh") else rng.standard_normal(value.shape)
