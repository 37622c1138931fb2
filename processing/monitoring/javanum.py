"""Numbers as the JVM prints them: Model Monitor's files are written by Jackson from Java doubles.

`Double.toString` writes plain decimals with at least one fractional digit for 1e-3 <= |x| < 1e7
(`2048.0`, `0.64`) and computerized scientific notation otherwise (`1.4402689218907343E10`,
`1.0E-4`). The digits are the shortest that read back to the same double (Python's repr gives
those). JDKs before 19 occasionally print one digit more than the shortest (JDK-4511638); such
values are rare and are the one known way this formatting can differ from AWS's (docs/monitoring.md).
"""

from __future__ import annotations

import math


def java_double(x: float) -> str:
    """Java's `Double.toString(x)`."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)  # Python prints this range as Java does: plain, shortest, with a fraction digit
    sign = "-" if x < 0 else ""
    digits, exponent = _shortest_digits(abs(x))
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{exponent}"


def _shortest_digits(x: float) -> tuple[str, int]:
    """Significant digits (no trailing zeros) and the exponent e with x = d.ddd × 10^e."""
    text = repr(x)
    if "e" in text:
        mantissa, exp = text.split("e")
        exponent = int(exp)
    else:
        mantissa, exponent = text, 0
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # position of the first significant digit relative to the decimal point
    exponent += len(whole) - 1 if whole.strip("0") else -(len(fraction) - len(fraction.lstrip("0")) + 1)
    return digits.rstrip("0") or "0", exponent
