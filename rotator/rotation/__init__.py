"""One rotation of one secret: the engine (four steps), probing, clean-up, local and remote runs,
status and maintenance, over one explicit :class:`~rotator.rotation.context.RotationContext`."""
