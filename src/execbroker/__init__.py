"""execbroker: an IVOA Execution Broker."""

__version__ = "0.1.0"
