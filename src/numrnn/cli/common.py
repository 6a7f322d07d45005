"""What every command shares: exit statuses, the error line, the output folder check and argparse's number types.

Bad input (a missing file, a bad column, an unwritable folder, an invalid option) ends with
`numrnn: error: <message>` on stderr and exit status 2, never a traceback.
"""
import argparse
import math
import os
import sys
import tempfile

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERRUPTED", "UsageError", "ERRORS", "report", "message",
           "prepare_out", "positive_int", "non_negative_int", "positive_float", "non_negative_float", "fraction"]

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
    """Print `numrnn: error: <message>` on stderr; returns the exit status for it."""
    print(f"numrnn: error: {message(error)}", file=sys.stderr)
    return EXIT_USAGE


def prepare_out(folder):
    """Create the output folder if needed and check that a file can be written there, before any training;
    returns its absolute path."""
    folder = os.path.abspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"output folder {folder} is a file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".numrnn-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise UsageError(f"cannot write to output folder {folder}: {error.strerror or error}") from None
    return folder


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
