"""Execution backends behind one small interface (see :mod:`execbroker.platforms.base`)."""
