"""``python -m miaudit`` runs the command line."""

from miaudit.cli import main

main()
