"""Helpers the benchmark scripts under bench/ share (each is run as `python bench/<name>.py`, so
this folder is on sys.path)."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
