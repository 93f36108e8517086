"""Use cases of SeedCore and the ports (``typing.Protocol``) they need from the outside world.

Nothing here imports an I/O library: adapters implement the ports, entrypoints wire them.
"""
