"""`python -m mediamon` — the same as the `mediamon` console script."""

from mediamon.cli import main

main()
