"""The pure core: models and protocol decisions. No I/O, no logging, no third-party imports."""
