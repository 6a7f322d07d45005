"""The loop of charlm.train: chunks, the learning-rate schedule, validation, the best model kept, exact resume.

    while not finished:                              the epochs, max_steps or the time budget
        validate if due                              every val_every_steps steps, or every val_every seconds
        one step on chunk `chunk` of pass `epoch`    the workers' compute_gradients, then apply_gradients
        write last.npz if due, at a pass's end, or on a stop (then raise Interrupted)
    validate once more; finish: the best weights back, their one-stream loss, model.npz and history.json

A checkpoint is taken only right after a step, before the validation that may follow it, so everything after it
(validations included) replays the same way when training resumes. Its state (state_dict) is the position (step,
pass, chunk, characters), the seconds spent, the smoothed loss, the validation history, the best score and
weights, each worker's dropout generators and carried recurrent states, and numrnn's generator; the weights and
Adam's state are the model's own, in the same file.
"""
import json
import math
import os
import time

from ...callbacks import call
from ...io.atomic import atomic_write
from ...io.load import load
from ...random import get_state, set_state
from ...schedules import Schedule
from ..runs import jsonable
from .corpus import make_streams, pass_offset, random_windows
from .evaluate import LN2, evaluate_ids

__all__ = ["Trainer", "validation_every"]


class Trainer:
    """The state of one character-model training in progress (see the module docstring)."""

    def __init__(self, model, config, workers, val_ids, out, history, log, callbacks=(), checkpoints=None,
                 run=None, train_ids=None):
        self.model, self.config, self.workers, self.val_ids, self.out = model, config, workers, val_ids, out
        self.history, self.log = history, log or (lambda *args, **kwargs: None)
        self.callbacks, self.checkpoints, self.run = list(callbacks), checkpoints, run or {}
        self.schedule = Schedule(config["lr_schedule"], floor=config["min_lr_fraction"])
        self.batch = sum(x.shape[0] for x, _ in workers.parts)
        self.columns = workers.parts[0][0].shape[1]
        self.chars_per_pass = self.batch * self.columns
        self.chunks_per_epoch = workers.chunk_count(config["steps"])
        by_steps = config["val_every_steps"] is not None or config["time_budget"] is None
        self.val_every_steps = validation_every(config, self.chunks_per_epoch) if by_steps else None
        history["val_every_steps"] = self.val_every_steps
        self.step = self.epoch = self.chunk = self.chars = 0
        self.elapsed = self.last_validation = 0.0  # seconds of this run, over every session of it
        self.train_loss = self.best = self.best_state = self.best_record = self.train_seconds = None
        self.ended = False
        self.start = None
        #: how the text is read (corpus.READINGS): without the training ids, the workers' streams as they are
        self.reading = config.get("reading", "streams") if train_ids is not None else "streams"
        self.train_ids = train_ids
        self.streams_epoch = None  # reading="offset": the pass whose streams the workers hold
        if self.reading == "windows":  # the ids and their next ones, (1, N - 1) each, checked once
            self.window_ids = model.check_data(train_ids[None, :-1], train_ids[None, 1:])[:2]

    # -- the loop ------------------------------------------------------------------------------------------------
    def progress(self):
        """How far training has gone, in [0, 1]: by characters, steps or time, whichever is furthest."""
        config = self.config
        fractions = [self.chars / (config["epochs"] * self.chars_per_pass)]
        if config["max_steps"]:
            fractions.append(self.step / config["max_steps"])
        if config["time_budget"]:
            fractions.append(self.elapsed / config["time_budget"])
        return min(1.0, max(fractions))

    def clock(self):
        self.elapsed = time.perf_counter() - self.start
        return self.elapsed

    def finished(self):
        config = self.config
        return (self.epoch >= config["epochs"] or (config["max_steps"] and self.step >= config["max_steps"])
                or (config["time_budget"] and self.clock() >= config["time_budget"]))

    def run_training(self):
        config = self.config
        call(self.callbacks, "set_model", self.model)
        call(self.callbacks, "set_params", {"epochs": config["epochs"], "steps": self.chunks_per_epoch,
                                            "time_budget": config["time_budget"], "initial_step": self.step,
                                            "max_steps": config["max_steps"]})
        self.start = time.perf_counter() - self.elapsed
        if self.step == 0 and not self.ended:
            self.save_checkpoint()  # a folder with a model.npz always has a last.npz to resume
        call(self.callbacks, "on_train_begin", {})
        try:
            while not self.ended and not self.finished():
                if self.validation_due():
                    self.validate()
                self.train_step()
        finally:
            call(self.callbacks, "on_train_end", {})
        if not self.ended:
            self.train_seconds = self.clock()
            self.validate()
            self.ended = True
            self.save_checkpoint()  # last.npz: the end of training

    def validation_due(self):
        if self.val_every_steps is not None:
            return self.step > 0 and self.step % self.val_every_steps == 0
        every, budget = self.config["val_every"], self.config["time_budget"]
        ending = budget is not None and budget - self.elapsed < 0.5 * every  # the last comes at the end
        return self.elapsed - self.last_validation >= every and not ending

    def train_step(self):
        config, model, workers = self.config, self.model, self.workers
        if self.reading == "offset" and self.streams_epoch != self.epoch:
            self.read_pass()
        if self.reading == "windows":
            workers.reset_states()  # every window starts from zeros
            chunk = workers.split(*random_windows(*self.window_ids, self.batch, config["steps"], config["seed"],
                                                  self.step))
        else:
            if self.chunk == 0:
                workers.reset_states()  # every pass starts from zeros
            chunk = workers.chunk(self.chunk, config["steps"])
        model.optimizer.lr = config["lr"] * self.schedule(self.progress())
        try:
            loss = workers.compute_gradients(chunk)
            if not math.isfinite(loss):
                raise FloatingPointError(f"the loss is {loss}; no step was taken, the weights are those from "
                                         f"before it")
            model.apply_gradients()
        except FloatingPointError as error:
            self.diverged(error)
        workers.sync()
        self.train_loss = loss if self.train_loss is None else 0.95 * self.train_loss + 0.05 * loss
        self.chars += chunk[0][0].shape[1] * self.batch
        self.step += 1
        self.chunk += 1
        epoch_end = self.chunk == self.chunks_per_epoch
        if epoch_end:
            self.chunk, self.epoch = 0, self.epoch + 1
        call(self.callbacks, "on_batch_end", self.step - 1,
             {"loss": loss, "smoothed_loss": self.train_loss, "seconds": self.clock()})
        if self.checkpoints is not None:
            self.checkpoints.check_stop(model, self.state_dict, self.checkpoint_extra())
            if self.checkpoints.due(epoch_end=epoch_end):
                self.save_checkpoint()

    def read_pass(self):
        """Give the workers this pass's streams: the training text read from the pass's offset (reading="offset"), a
        function of the seed and the pass, so a run resumed mid-pass reads on from the same streams."""
        offset = pass_offset(len(self.train_ids), self.config["seed"], self.epoch)
        inputs, targets = make_streams(self.train_ids, self.batch, offset)
        inputs, targets, _ = self.model.check_data(inputs, targets)
        self.workers.set_streams(inputs, targets)
        self.streams_epoch = self.epoch

    def diverged(self, error):
        """Record the divergence in history.json and raise it, naming the step and what to change."""
        clip = self.config["clip"]
        kept = (f"; the best model so far (validation {self.best:.4f} nats at step {self.best_record['step']}) "
                f"stays in {os.path.join(self.out, 'model.npz')}" if self.out and self.best_state else "")
        message = (f"training diverged at step {self.step + 1} (pass {self.epoch + 1} over the text): {error}. "
                   f"Try a smaller --lr (this step's was {self.model.optimizer.lr:.4g}), "
                   f"{'a smaller --clip (now ' + format(clip, 'g') + ')' if clip else '--clip 1'} or --dtype "
                   f"float64{kept}")
        self.history["diverged"] = message
        self.write_history()
        raise FloatingPointError(message) from None

    # -- validation and the files ----------------------------------------------------------------------------------
    def validate(self):
        """The interval validation: record it, keep the model if it is the best so far, write both files."""
        config = self.config
        began = time.perf_counter()
        loss = evaluate_ids(self.model, self.val_ids, streams=config["val_streams"], warmup=config["val_warmup"],
                            replicas=self.workers.models, pool=self.workers.pool)
        spent = time.perf_counter() - began
        seconds = self.clock() - spent
        record = {"seconds": round(seconds, 2), "step": self.step, "epoch": self.epoch, "characters": self.chars,
                  "train_loss": None if self.train_loss is None else round(self.train_loss, 5),
                  "val_loss": round(loss, 5), "bits_per_char": round(loss / LN2, 5),
                  "lr": float(f"{self.model.optimizer.lr:.6g}"),
                  "chars_per_second": round(self.chars / max(seconds, 1e-9), 1), "validation_seconds": round(spent, 2)}
        self.history["validation"].append(record)
        self.last_validation = self.elapsed
        improved = math.isfinite(loss) and (self.best is None or loss < self.best)
        if improved:
            self.best, self.best_record, self.best_state = loss, record, self.model.state_dict()
            self.save_best(record)
        self.write_history()
        self.log(f"{seconds:7.1f}s  epoch {self.epoch + 1}  step {self.step}  {self.chars / 1e6:.2f}M chars  "
                 f"train {record['train_loss'] if record['train_loss'] is not None else float('nan'):.4f}  "
                 f"val {loss:.4f} nats  {loss / LN2:.4f} bits/char  {record['chars_per_second'] / 1e3:.1f}k chars/s"
                 + ("  (kept)" if improved else ""))

    def save_best(self, record, final=None):
        if self.out is None:
            return
        extra = {"text": {"config": self.config, "validation": record, "final": final, "val_loss": self.best},
                 "run": {"id": self.run.get("id")}}
        if self.checkpoints is not None and final is None:
            self.checkpoints.save_best(self.model, jsonable(extra))  # a full disk: a warning, retried later
        else:
            self.model.save(os.path.join(self.out, "model.npz"), extra=jsonable(extra))

    def write_history(self):
        if self.out is None:
            return
        with atomic_write(os.path.join(self.out, "history.json"), "w") as stream:
            json.dump(jsonable(self.history), stream, indent=1, allow_nan=False)

    def finish(self):
        """Put the best weights back, measure their one-stream validation loss, record it and save again."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
            self.workers.sync()  # the workers read shares of the segments
        began = time.perf_counter()
        how = {}
        loss = evaluate_ids(self.model, self.val_ids, replicas=self.workers.models, pool=self.workers.pool,
                            report=how)
        final = {"val_loss": round(loss, 5), "bits_per_char": round(loss / LN2, 5),
                 "train_seconds": round(self.train_seconds, 2), "characters": self.chars, "steps": self.step,
                 "chars_per_second": round(self.chars / max(self.train_seconds, 1e-9), 1),
                 "evaluation_seconds": round(time.perf_counter() - began, 2), "evaluation": how}
        self.history["final"] = final
        best = self.best_record or min(self.history["validation"], key=lambda r: r["val_loss"])
        self.save_best(best, final)
        self.write_history()
        self.log(f"kept model (val {best['val_loss']:.4f} at {best['seconds']:.0f}s): "
                 f"{loss:.4f} nats/char, {loss / LN2:.4f} bits/char on the whole validation split in one stream "
                 f"({final['evaluation_seconds']:.1f}s); trained {self.train_seconds:.0f}s, {self.chars:,} chars, "
                 f"{final['chars_per_second'] / 1e3:.1f}k chars/s")

    # -- exact resume --------------------------------------------------------------------------------------------
    def checkpoint_extra(self):
        return {"run": self.run, "text": {"config": self.config}}

    def save_checkpoint(self):
        if self.checkpoints is not None:
            self.checkpoints.save(self.model, self.state_dict(), jsonable(self.checkpoint_extra()))

    def state_dict(self):
        """Everything but the model's weights and optimizer state needed to continue exactly."""
        return {"step": self.step, "epoch": self.epoch, "chunk": self.chunk, "chars": self.chars,
                "elapsed": self.clock() if self.start is not None else self.elapsed,
                "last_validation": self.last_validation, "train_loss": self.train_loss, "best": self.best,
                "best_record": self.best_record, "best_state": self.best_state, "ended": self.ended,
                "train_seconds": self.train_seconds, "validation": self.history["validation"],
                "generators": {"numrnn": get_state(), "workers": self.workers.generator_states()},
                "carried": self.workers.carried_states()}

    def load_state_dict(self, state):
        """Continue from a state_dict() (the model's weights and optimizer state are put back by the caller)."""
        for key in ("step", "epoch", "chunk", "chars", "elapsed", "last_validation", "train_loss", "best",
                    "best_record", "best_state", "ended", "train_seconds"):
            setattr(self, key, state[key])
        self.history["validation"] = list(state["validation"])
        set_state(state["generators"]["numrnn"])
        self.workers.sync()
        self.workers.set_generator_states(state["generators"]["workers"])
        self.workers.set_carried_states(state["carried"])
        self.adopt_better_model_on_disk()

    def adopt_better_model_on_disk(self):
        """A model.npz better than the state's best (written after the checkpoint, by a run killed before the next
        one; only a time-scheduled run may not find it again) becomes the best, so it is never replaced by a worse
        one."""
        path = os.path.join(self.out, "model.npz") if self.out else None
        if not path or not os.path.exists(path):
            return
        on_disk = load(path)
        text = on_disk.extra.get("text") if isinstance(on_disk.extra.get("text"), dict) else {}
        loss, record = text.get("val_loss"), text.get("validation")
        if isinstance(loss, float) and math.isfinite(loss) and (self.best is None or loss < self.best) \
                and isinstance(record, dict) and on_disk.config()["layers"] == self.model.config()["layers"]:
            self.best, self.best_record, self.best_state = loss, record, on_disk.state_dict()


def validation_every(config, chunks_per_epoch):
    """The steps between validations of a run bounded by epochs or max_steps: val_every_steps, or by default
    once per pass over the text and at least ten times per run."""
    if config["val_every_steps"] is not None:
        return config["val_every_steps"]
    total = config["epochs"] * chunks_per_epoch
    if config["max_steps"] is not None:
        total = min(total, config["max_steps"])
    return max(1, min(chunks_per_epoch, math.ceil(total / 10)))
