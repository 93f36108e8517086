"""The embedded profile keeps Mlt (vectors and graph), Mfb and the ledger across a restart."""

from __future__ import annotations

from pathlib import Path

from domain.holon import Edge
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import RuntimeKind, Settings


def test_holons_edges_incidents_and_ledger_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, runtime=RuntimeKind.INPROCESS)
    first = bootstrap(settings)
    memory = first.memory
    facts = [memory.make_holon(f"fact number {k}", "fact", {"k": str(k)}) for k in range(20)]
    topic = memory.make_holon("numbers", "topic")
    memory.remember([*facts, topic], [Edge(topic.uuid, "CONTAINS", f.uuid) for f in facts])
    incident = first.incidents.create("agent-1", "organ-1", 0.93, {"task_id": "t1"},
                                      {"code": "E_TIMEOUT"}, {"h": [0.1, 0.2]})
    first.tier0.create_organ("organ-1", "cognitive")
    first.energy.snapshot()
    ledger_before = first.energy.transactions(limit=500)
    del first

    second = bootstrap(settings)
    again = second.memory
    assert again.holons.count() == 21
    for fact in facts:
        stored = again.get_holon(fact.uuid)
        assert stored is not None and stored.content == fact.content
        assert stored.meta == fact.meta
    assert {n.uuid for n in again.neighbours(topic.uuid, 1)} == {f.uuid for f in facts}
    assert again.graph.counts() == (21, 20)
    assert again.search("fact number 7", 1)[0].holon.uuid == facts[7].uuid
    restored = second.incidents.get(incident.incident_id)
    assert restored.salience == 0.93 and restored.snapshot == {"h": [0.1, 0.2]}
    assert second.energy.transactions(limit=500) == ledger_before
