"""`python -m chatalot` is the same as the `chatalot` command."""

from chatalot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
