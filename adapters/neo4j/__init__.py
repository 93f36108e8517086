"""Bolt (Neo4j protocol) adapters: the Mlt holon graph, on Neo4j 5 or on FalkorDB.

``driver.make_driver`` builds the official ``neo4j`` driver; ``holon_graph.Neo4jHolonGraph``
keeps its schema set-up behind a small dialect switch and otherwise sends portable Cypher.
"""
