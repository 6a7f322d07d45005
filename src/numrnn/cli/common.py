"""What every command shares: exit statuses, the error line, the output folder check, signals and argparse's
number types.

Bad input (a missing file, a bad column, an unwritable folder, an invalid option) ends with
`numrnn: error: <message>` on stderr and exit status 2, never a traceback. Training that diverges ends with its
message and status 1 (after writing what it can); training stopped by SIGINT or SIGTERM writes its state and ends
with status 130 or 143 (128 + the signal's number).
"""
import argparse
import contextlib
import math
import signal
import sys
import threading

from ..apps.durable import Interrupted
from ..apps.folder import writable_folder

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED", "UsageError", "ERRORS", "report", "message",
           "prepare_out", "warn", "stop_on_signals", "interrupted", "interrupted_after", "Interrupted", "positive_int",
           "non_negative_int", "positive_float", "non_negative_float", "fraction"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A problem with what the user asked for; main prints it and exits with status 2."""


#: the errors that bad input raises: reported in one line, exit status 2 (FloatingPointError: a diverging loss)
ERRORS = (UsageError, ValueError, TypeError, OSError, ImportError, FloatingPointError)


def message(error):
    """The error's text, with the file named for an operating-system error."""
    if isinstance(error, FileNotFoundError) and error.filename and not error.args[1:]:
        return str(error)
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


def report(error):
    """Print `numrnn: error: <message>` on stderr; returns the exit status for it (1 for training that diverged,
    2 for bad input)."""
    print(f"numrnn: error: {message(error)}", file=sys.stderr)
    return EXIT_FAILED if isinstance(error, FloatingPointError) else EXIT_USAGE


def warn(text):
    """A warning line on stderr (the text says `numrnn: warning: ...`)."""
    print(text, file=sys.stderr, flush=True)


def interrupted(error):
    """Print where an interrupted training's state is; returns 128 + the signal's number."""
    print(f"numrnn: {error}", file=sys.stderr)
    return 128 + int(error.signum)


def interrupted_after(stop, status):
    """The exit status of a command that finished its work: 128 + the signal's number if one came after training
    (everything was written by then), else `status`."""
    if stop.requested:
        print("numrnn: interrupted after training ended; every file was written", file=sys.stderr)
        return 128 + int(stop.signum)
    return status


@contextlib.contextmanager
def stop_on_signals(stop):
    """Inside, SIGINT and SIGTERM ask training to stop (numrnn.apps.durable.StopFlag): it stops at the end of the
    step under way and writes its state. A second signal ends the command at once. Outside the main thread (no
    signal handlers there) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.requested:
            print("numrnn: stopping at once (a second signal); the last training state written stays",
                  file=sys.stderr)
            raise SystemExit(128 + signum)
        stop.request(signum)

    previous = {number: signal.signal(number, handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler_before in previous.items():
            signal.signal(number, handler_before)


def prepare_out(folder):
    """Create the output folder if needed and check that a file can be written there, before any training;
    returns its absolute path."""
    try:
        return writable_folder(folder)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _argument_type(convert, accept, expected):
    """An argparse `type=`: convert the text, or say what was expected and what came."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = expected.replace(" ", "_")
    return parse


positive_int = _argument_type(int, lambda value: value > 0, "a positive integer")
non_negative_int = _argument_type(int, lambda value: value >= 0, "a non-negative integer")
positive_float = _argument_type(float, lambda value: math.isfinite(value) and value > 0, "a positive number")
non_negative_float = _argument_type(float, lambda value: math.isfinite(value) and value >= 0, "a number >= 0")
fraction = _argument_type(float, lambda value: 0 <= value < 0.5, "a fraction in [0, 0.5)")
