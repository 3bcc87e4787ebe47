"""The on-disk map that keeps verify's per-record state out of memory."""

from __future__ import annotations

from ledger import spill
from ledger.spill import Spill


def test_values_survive_being_written_out_of_the_buffer() -> None:
    store = Spill()
    count = spill.BUFFER * 2 + 7
    for n in range(count):
        store.put(n.to_bytes(4, "big"), (n, f"class-{n % 3}"))
    assert len(store.buffer) < spill.BUFFER
    assert store.get((5).to_bytes(4, "big")) == (5, "class-2")
    assert store.get(count.to_bytes(4, "big")) is None
    assert len(store) == count
    store.close()


def test_a_later_value_replaces_an_earlier_one_on_disk_too() -> None:
    store = Spill()
    store.put(b"k", (1, "monitoring"))
    store.flush()
    store.put(b"k", (2, "monitoring"))
    store.flush()
    assert store.get(b"k") == (2, "monitoring")
    assert store.setdefault(b"k", (9, "other")) == (2, "monitoring")
    assert store.setdefault(b"new", (1, "subject")) == (1, "subject")
    assert list(store.items()) == [(b"k", (2, "monitoring")), (b"new", (1, "subject"))]
    store.close()


def test_a_prefetched_key_written_and_flushed_in_the_same_batch_reads_its_new_value() -> None:
    store = Spill()
    store.put(b"old", (1, "incident"))
    store.flush()
    store.prefetch({b"old", b"new"})
    assert (store.get(b"old"), store.get(b"new")) == ((1, "incident"), None)
    store.put(b"new", (1, "monitoring"))
    store.put(b"old", (2, "incident"))
    store.flush()
    assert (store.get(b"old"), store.get(b"new")) == ((2, "incident"), (1, "monitoring"))
    store.close()
