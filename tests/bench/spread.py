"""The figure every benchmark table prints: the median of its runs, with
min and max. Imported by the scripts' report code; from the shell,
`python3 tests/bench/spread.py <values...>` prints it for whole numbers."""
import statistics
import sys


def spread(values, fmt=lambda x: f"{x:.0f}"):
    v = sorted(values)
    if not v:
        return "n/a"
    return f"{fmt(statistics.median(v))} ({fmt(v[0])}-{fmt(v[-1])})"


if __name__ == "__main__":
    print(spread(float(x) for x in sys.argv[1:]))
