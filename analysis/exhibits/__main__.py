"""``python -m analysis.exhibits``: write every figure, table and numbers.tex."""
from analysis.exhibits import numbers


def main() -> None:
    numbers.write()


if __name__ == "__main__":
    main()
