"""calcbench: REST over HTTP/1.1 against gRPC over HTTP/2, measured on twin calculators."""

__version__ = "0.1.0"
