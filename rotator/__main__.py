"""``python -m rotator`` runs the CLI."""

from rotator.cli.main import main

main()
