"""The base every other package stands on: the contract's vocabulary, arithmetic, wire and
file formats, environment metadata, the console, and the runtime both services share.

It imports nothing above it (`make lint` checks the layers with import-linter).
"""
