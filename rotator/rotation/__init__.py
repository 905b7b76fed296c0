"""The rotation service: the four Secrets Manager steps, local and remote rotations."""
