"""``python -m rotator`` runs the CLI."""

from rotator.cli.app import main

main()
