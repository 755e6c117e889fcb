"""The `mediamon` command line (entry point ``mediamon.cli.main:main``)."""
