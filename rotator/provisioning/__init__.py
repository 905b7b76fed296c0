"""Before the first rotation: ``init`` seeds a secret, ``schedule`` turns its rotation on or off."""
