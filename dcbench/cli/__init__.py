"""The ``dcbench`` command line. ``main.py`` only registers verbs; each verb lives in its own module."""
