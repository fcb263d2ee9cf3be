"""The recorder's seconds: emitted in order, once complete, warm-up apart."""

from __future__ import annotations

from loadgen.recorder import Recorder, SecondStats


def record(recorder: Recorder, second: int, service: str = "addition", ok: bool = True) -> None:
    outcome = "ok" if ok else "unavailable"
    recorder.record(second, service, 0.002, 0.001, outcome, "x", False, "addition-0")


def test_seconds_are_emitted_in_order_once_nothing_is_in_flight() -> None:
    emitted: list[SecondStats] = []
    recorder = Recorder(warmup=1.0, duration=2.0, emit=emitted.append)
    assert (recorder.first, recorder.last) == (-1, 1)
    assert [recorder.second_of(t) for t in (0.0, 0.99, 1.0, 2.5)] == [-1, -1, 0, 1]
    recorder.begin(-1)
    recorder.begin(0)
    recorder.begin(0)
    record(recorder, 0)
    recorder.flush(5.0)
    assert emitted == []  # second -1 still has a request in flight
    record(recorder, -1)
    recorder.flush(1.5)  # second 0 not over yet
    assert [s.second for s in emitted] == [-1]
    recorder.flush(2.5)
    assert [s.second for s in emitted] == [-1]  # second 0 has one in flight
    record(recorder, 0, ok=False)
    recorder.flush(2.5)
    assert [s.second for s in emitted] == [-1, 0]
    assert emitted[1].requests["addition"] == 2 and emitted[1].errors["addition"] == 1
    recorder.finish(3.0)
    assert [s.second for s in emitted] == [-1, 0, 1]  # an empty second is still emitted
    assert recorder.warmup.requests() == 1 and recorder.measured.requests() == 2
    assert recorder.measured.intended["addition"].get_total_count() == 2


def test_finish_after_a_stop_ends_with_the_second_of_the_stop() -> None:
    emitted: list[SecondStats] = []
    recorder = Recorder(warmup=0.0, duration=10.0, emit=emitted.append)
    recorder.begin(1)
    recorder.finish(1.4)
    assert [s.second for s in emitted] == [0, 1]
    record(recorder, 1)  # a late reply after finish is dropped, not an error
    assert recorder.measured.requests() == 0


def test_second_stats_merge_and_wire() -> None:
    emitted: list[SecondStats] = []
    recorders = [Recorder(0.0, 1.0, emitted.append) for _ in range(2)]
    for recorder in recorders:
        recorder.begin(0)
        record(recorder, 0, "division", ok=False)
        recorder.finish(1.0)
    total = SecondStats.merge(0, [SecondStats.from_wire(s.to_wire()) for s in emitted])
    assert total.requests == {"division": 2} and total.errors == {"division": 2}
    assert total.all_histogram().get_total_count() == 2
