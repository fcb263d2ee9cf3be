"""The worker's frozen heap: garbage collected before, live objects frozen during, all back
after."""

from __future__ import annotations

import gc
import weakref

from loadgen.worker import frozen_heap


class Node:
    def __init__(self) -> None:
        self.itself = self


def test_garbage_is_collected_first_and_live_objects_frozen_until_the_end() -> None:
    garbage = weakref.ref(Node())  # a cycle: only a collection frees it
    alive = [Node()]
    with frozen_heap():
        assert garbage() is None
        assert gc.get_freeze_count() > len(alive)
    assert gc.get_freeze_count() == 0
