"""Kubernetes: the situations' manifests (rendered as data), a `kubectl` runner, and the flows
of `calcbench k8s deploy`, `bench` and `delete` that drive it.

Nothing here talks to the API server except through `kubectl` (`kubectl.Kubectl`), so the
tests stand a recording script in for it; the pods' own program is `generator`.
"""
