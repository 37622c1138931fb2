import pytest

from processing.monitoring.javanum import java_double

pytestmark = pytest.mark.image


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2048.0, "2048.0"),
        (0.64, "0.64"),
        (0.001, "0.001"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (3.8e7, "3.8E7"),
        (1.4402689218907343e10, "1.4402689218907343E10"),
        (1.0e-4, "1.0E-4"),
        (-0.00099, "-9.9E-4"),
        (123456789.0, "1.23456789E8"),
        (1e21, "1.0E21"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (0.30000000000000004, "0.30000000000000004"),
    ],
)
def test_java_double_to_string(value, text):
    assert java_double(value) == text
