"""argparse `type=` converters shared by the command line and the text commands: a clear message for bad values."""
import argparse
import math


def _argument_type(convert, accept, expected):
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
