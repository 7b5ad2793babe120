"""Thin ctypes bindings, one module per NVIDIA library: ints in, ints out, loaded on first use."""
