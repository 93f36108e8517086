"""The ports: one ``typing.Protocol`` per module, mirrored by ``adapters/`` and the fakes."""
