"""The ``rotator`` command line (click). Each command calls one service function."""
