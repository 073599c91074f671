"""execbroker.wire: bytes to documents (media) and documents to the internal model (dialect codecs).

* :mod:`execbroker.wire.media`: YAML (default) and JSON bodies, Accept negotiation, hostile-body limits.
* :mod:`execbroker.wire.dialects`: :class:`~execbroker.wire.dialects.Dialect`, ``get_codec``,
  ``detect_dialect``; reading is liberal, writing is exact.
* :mod:`execbroker.wire.kinds`: the only place kind URIs meet the internal kind enums.
* :mod:`execbroker.wire.errors`: the errors, each with an HTTP status and every problem found.
"""
