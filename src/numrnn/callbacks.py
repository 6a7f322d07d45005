"""Callbacks: code that fit runs at fixed points of training, under Keras's names and signatures.

    set_model(model)                       before training: the model being trained
    set_params(params)                     before training: {"epochs": E, "steps": batches per epoch, ...}
    on_train_begin(logs)                   on_train_end(logs)
    on_epoch_begin(epoch, logs)            on_epoch_end(epoch, logs)     logs: the epoch's metrics, val_ included
    on_batch_begin(batch, logs)            on_batch_end(batch, logs)     logs: the batch's loss, accuracy, grad_norm

Subclass Callback and override what you need (any object with some of these methods works too). A callback may
end training by setting model.stop_training = True; fit stops after the current batch.
"""
from .schedules import Schedule

__all__ = ["Callback", "LearningRateScheduler", "call"]


class Callback:
    """The protocol, every method a no-op; `model` and `params` are set before training begins."""

    model = None
    params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of every epoch.

    schedule: a numrnn.schedules.Schedule (lr = the rate at the start of training x schedule(epoch / epochs)), or, as
    Keras's, a function schedule(epoch, lr) -> the new lr.
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"schedule must be a numrnn Schedule or a function (epoch, lr) -> lr, "
                            f"got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose
        self.base_lr = None

    def on_train_begin(self, logs=None):
        self.base_lr = self.model.optimizer.lr

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if isinstance(self.schedule, Schedule):
            optimizer.lr = self.base_lr * self.schedule(epoch / self.params["epochs"])
        else:
            optimizer.lr = float(self.schedule(epoch, optimizer.lr))
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {optimizer.lr:.6g}")


def call(callbacks, method, *args):
    """Call `method` with args on every callback that has it."""
    for callback in callbacks:
        function = getattr(callback, method, None)
        if function is not None:
            function(*args)
