"""The calculator over gRPC (HTTP/2): one process serves one service as one replica.

`calculator_grpc.server.start(config)` runs a replica in-process; `python -m calculator_grpc`
is the entry point; `calcbench.core.rpc` holds what clients need (method paths, channel targets).
"""
