"""Contract of the holon graph port (Mlt graph), run against every adapter."""

from __future__ import annotations

import itertools
import uuid

import pytest

from adapters.memory.holon_graph import InMemoryHolonGraph
from application.errors import BackendUnavailable, InvalidInput
from application.ports.holon_graph import HolonGraph, Neighbour
from domain.holon import Edge, InvalidRelationshipType
from tests.contract.conftest import Harness

INJECTED_TYPES = [
    "KNOWS]-() DELETE n//",
    "x'}) DETACH DELETE n //",
    "knows",
    "",
    "1REL",
    "REL TYPE",
    "REL`",
    "A" * 65,
]


def node(name: str) -> str:
    """A stable uuid per name; names sort like their uuids do not, so tests sort uuids."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def forged_edge(src: str, rel: str, dst: str) -> Edge:
    """An edge carrying a type ``Edge`` itself would refuse, to prove the adapter checks too."""
    edge = Edge(src, "PLACEHOLDER", dst)
    object.__setattr__(edge, "rel", rel)
    return edge


def triples(found: list[Neighbour]) -> list[tuple[str, str, int]]:
    return [(n.uuid, n.rel, n.depth) for n in found]


class TestWrites:
    def test_nodes_are_unique(self, graph: Harness[HolonGraph]) -> None:
        a, b = node("a"), node("b")
        graph.adapter.merge_nodes([a, b, a])
        graph.adapter.merge_nodes([b])
        assert graph.adapter.counts() == (2, 0)
        assert graph.adapter.has_node(a)
        assert not graph.adapter.has_node(node("c"))

    def test_relate_creates_missing_ends_and_each_edge_once(
        self, graph: Harness[HolonGraph]
    ) -> None:
        a, b = node("a"), node("b")
        graph.adapter.relate([Edge(a, "KNOWS", b), Edge(a, "KNOWS", b)])
        graph.adapter.relate([Edge(a, "KNOWS", b)])
        assert graph.adapter.counts() == (2, 1)
        assert graph.adapter.has_node(a)
        assert graph.adapter.has_node(b)
        graph.adapter.relate([Edge(a, "CITES", b), Edge(b, "KNOWS", a)])
        assert graph.adapter.counts() == (2, 3)

    def test_empty_writes_change_nothing(self, graph: Harness[HolonGraph]) -> None:
        graph.adapter.merge_nodes([])
        graph.adapter.relate([])
        assert graph.adapter.counts() == (0, 0)

    def test_delete_node_removes_it_and_its_edges_only(self, graph: Harness[HolonGraph]) -> None:
        a, b, c, d = (node(n) for n in "abcd")
        graph.adapter.relate(
            [Edge(a, "KNOWS", b), Edge(c, "CITES", a), Edge(b, "KNOWS", c), Edge(c, "KNOWS", d)]
        )
        assert graph.adapter.delete_node(a) is True
        assert graph.adapter.delete_node(a) is False
        assert graph.adapter.counts() == (3, 2)
        assert not graph.adapter.has_node(a)
        assert all(graph.adapter.has_node(n) for n in (b, c, d))
        assert triples(graph.adapter.neighbours(c)) == sorted([(b, "KNOWS", 1), (d, "KNOWS", 1)])
        assert graph.adapter.neighbours(a) == []

    def test_a_deleted_node_can_come_back_without_its_old_edges(
        self, graph: Harness[HolonGraph]
    ) -> None:
        a, b = node("a"), node("b")
        graph.adapter.relate([Edge(a, "KNOWS", b)])
        graph.adapter.delete_node(a)
        graph.adapter.merge_nodes([a])
        assert graph.adapter.neighbours(a) == []
        assert graph.adapter.counts() == (2, 0)


class TestNeighbours:
    def test_depth_one_follows_edges_in_both_directions(self, graph: Harness[HolonGraph]) -> None:
        a, b, c, far = node("a"), node("b"), node("c"), node("far")
        graph.adapter.relate([Edge(a, "KNOWS", b), Edge(c, "CITES", a), Edge(b, "KNOWS", far)])
        assert triples(graph.adapter.neighbours(a)) == sorted([(b, "KNOWS", 1), (c, "CITES", 1)])

    def test_each_node_appears_once_at_its_smallest_depth_sorted_by_depth_then_uuid(
        self, graph: Harness[HolonGraph]
    ) -> None:
        a, b, c, d, e = (node(n) for n in "abcde")
        # a - b - c - d - e, plus a shortcut a - c; cycles included.
        graph.adapter.relate(
            [
                Edge(a, "NEXT", b),
                Edge(b, "NEXT", c),
                Edge(c, "NEXT", d),
                Edge(d, "NEXT", e),
                Edge(c, "SHORTCUT", a),
                Edge(e, "NEXT", a),
            ]
        )
        found = graph.adapter.neighbours(a, depth=2)
        depth1 = sorted([(b, "NEXT", 1), (c, "SHORTCUT", 1), (e, "NEXT", 1)])
        assert triples(found) == [*depth1, (d, "NEXT", 2)]
        assert [n.uuid for n in found].count(c) == 1
        assert a not in [n.uuid for n in found]

    def test_depth_limits_the_hops(self, graph: Harness[HolonGraph]) -> None:
        chain = [node(f"n{i}") for i in range(7)]
        graph.adapter.relate([Edge(x, "NEXT", y) for x, y in itertools.pairwise(chain)])
        for depth in range(1, 6):
            found = graph.adapter.neighbours(chain[0], depth=depth)
            assert [(n.uuid, n.depth) for n in found] == [
                (chain[i], i) for i in range(1, depth + 1)
            ]

    @pytest.mark.parametrize("depth", [0, -1, 6, 100])
    def test_a_depth_outside_one_to_five_is_refused(
        self, graph: Harness[HolonGraph], depth: int
    ) -> None:
        graph.adapter.relate([Edge(node("a"), "NEXT", node("b"))])
        with pytest.raises((ValueError, InvalidInput)):
            graph.adapter.neighbours(node("a"), depth=depth)

    def test_type_filters_are_applied_on_every_hop(self, graph: Harness[HolonGraph]) -> None:
        a, b, c, d = (node(n) for n in "abcd")
        graph.adapter.relate(
            [Edge(a, "KNOWS", b), Edge(b, "LIKES", c), Edge(b, "KNOWS", d), Edge(a, "CITES", c)]
        )
        assert triples(graph.adapter.neighbours(a, 2, ["KNOWS"])) == [
            (b, "KNOWS", 1),
            (d, "KNOWS", 2),
        ]
        assert triples(graph.adapter.neighbours(a, 2, ["LIKES"])) == []
        assert {n.uuid for n in graph.adapter.neighbours(a, 2, ["KNOWS", "LIKES"])} == {b, c, d}

    def test_rel_is_the_type_of_the_edge_a_node_was_first_reached_through(
        self, graph: Harness[HolonGraph]
    ) -> None:
        a, b, c = node("a"), node("b"), node("c")
        graph.adapter.relate([Edge(a, "DIRECT", b), Edge(a, "VIA", c), Edge(c, "LATER", b)])
        found = {n.uuid: (n.rel, n.depth) for n in graph.adapter.neighbours(a, 3)}
        assert found == {b: ("DIRECT", 1), c: ("VIA", 1)}
        found = {n.uuid: (n.rel, n.depth) for n in graph.adapter.neighbours(a, 3, ["VIA", "LATER"])}
        assert found == {c: ("VIA", 1), b: ("LATER", 2)}

    def test_a_node_reached_through_several_edges_at_one_depth_appears_once(
        self, graph: Harness[HolonGraph]
    ) -> None:
        a, b, c, d = (node(n) for n in "abcd")
        graph.adapter.relate(
            [
                Edge(a, "X", b),
                Edge(a, "Y", b),  # a parallel edge of another type
                Edge(a, "Z", c),
                Edge(b, "P", d),
                Edge(c, "Q", d),  # a second parent at the same depth
            ]
        )
        found = graph.adapter.neighbours(a, 2)
        assert [(n.uuid, n.depth) for n in found] == [*sorted([(b, 1), (c, 1)]), (d, 2)]
        rels = {n.uuid: n.rel for n in found}
        assert rels[b] in {"X", "Y"}
        assert rels[d] in {"P", "Q"}

    def test_an_unknown_or_isolated_node_has_no_neighbours(
        self, graph: Harness[HolonGraph]
    ) -> None:
        graph.adapter.merge_nodes([node("alone")])
        assert graph.adapter.neighbours(node("alone"), 5) == []
        assert graph.adapter.neighbours(node("unknown"), 5) == []


class TestValidation:
    @pytest.mark.parametrize("rel", INJECTED_TYPES)
    def test_relate_refuses_an_unsafe_type_and_writes_nothing(
        self, graph: Harness[HolonGraph], rel: str
    ) -> None:
        a, b, c = node("a"), node("b"), node("c")
        graph.adapter.relate([Edge(a, "KNOWS", b)])
        with pytest.raises(InvalidRelationshipType):
            graph.adapter.relate([Edge(b, "KNOWS", c), forged_edge(a, rel, c)])
        assert graph.adapter.counts() == (2, 1)
        assert not graph.adapter.has_node(c)

    @pytest.mark.parametrize("rel", INJECTED_TYPES)
    def test_neighbours_refuses_an_unsafe_type_filter(
        self, graph: Harness[HolonGraph], rel: str
    ) -> None:
        a, b = node("a"), node("b")
        graph.adapter.relate([Edge(a, "KNOWS", b)])
        with pytest.raises(InvalidRelationshipType):
            graph.adapter.neighbours(a, 1, ["KNOWS", rel])
        assert graph.adapter.counts() == (2, 1)

    def test_the_longest_valid_type_is_accepted(self, graph: Harness[HolonGraph]) -> None:
        rel = "R" + "_9" * 31 + "Z"  # 64 characters
        graph.adapter.relate([Edge(node("a"), rel, node("b"))])
        assert triples(graph.adapter.neighbours(node("a"), 1, [rel])) == [(node("b"), rel, 1)]


def test_an_unreachable_backend_raises_backend_unavailable_and_writes_nothing(
    graph: Harness[HolonGraph],
) -> None:
    if graph.outage is None:
        pytest.skip("this adapter's harness cannot simulate an outage")
    a, b, c = node("a"), node("b"), node("c")
    graph.adapter.relate([Edge(a, "KNOWS", b)])
    with graph.outage():
        for call in [
            graph.adapter.ping,
            lambda: graph.adapter.merge_nodes([c]),
            lambda: graph.adapter.relate([Edge(b, "KNOWS", c)]),
            lambda: graph.adapter.delete_node(a),
            lambda: graph.adapter.neighbours(a),
            lambda: graph.adapter.has_node(a),
            graph.adapter.counts,
        ]:
            with pytest.raises(BackendUnavailable):
                call()
    assert graph.adapter.counts() == (2, 1)
    assert not graph.adapter.has_node(c)


def test_the_in_memory_graph_fails_the_next_writes_on_request() -> None:
    """The switch the all-or-nothing tests of ``MemoryService.remember`` rely on."""
    fake = InMemoryHolonGraph()
    a, b = node("a"), node("b")
    fake.fail_next = 2
    with pytest.raises(BackendUnavailable) as failure:
        fake.merge_nodes([a])
    assert failure.value.backend == "graph"
    with pytest.raises(BackendUnavailable):
        fake.relate([Edge(a, "KNOWS", b)])
    assert fake.has_node(a) is False  # reads are not failed, and nothing was written
    fake.relate([Edge(a, "KNOWS", b)])
    assert fake.counts() == (2, 1)
