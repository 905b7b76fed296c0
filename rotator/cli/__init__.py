"""The ``rotator`` command line (click): ``app`` (the group), one module per command group
(``rotate``, ``status``, ``maintenance``, ``deploy``), and their shared ``options``, ``errors``,
``render``, ``selection`` and ``progress``. Command modules never import ``app``."""
