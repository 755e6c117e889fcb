"""`python -m mediamon` — the same as the `mediamon` console script."""

from mediamon.cli.main import main

main()
