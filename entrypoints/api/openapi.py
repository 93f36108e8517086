"""Finishing touches on the OpenAPI document Litestar generates, so that it states exactly
what the API accepts:

- request bodies refuse unknown fields (``additionalProperties: false``);
- an optional value's constraints apply to the value, not to the ``oneOf`` around it;
- a query, path or header parameter is absent or a value, never ``null``.
"""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Litestar
from litestar.openapi.spec import OpenAPIType, Operation, Parameter, Reference, Schema
from msgspec import Struct

from entrypoints.api import schemas

__all__ = ["tidy"]

_CONSTRAINTS = (
    "format", "enum", "multiple_of", "maximum", "exclusive_maximum", "minimum",
    "exclusive_minimum", "max_length", "min_length", "pattern", "max_items", "min_items",
    "unique_items", "max_properties", "min_properties",
)
_METHODS = ("get", "put", "post", "delete", "patch")


def tidy(app: Litestar) -> None:
    document = app.openapi_schema
    closed = {
        name for name, value in vars(schemas).items()
        if isinstance(value, type) and issubclass(value, Struct)
        and value.__struct_config__.forbid_unknown_fields
    }
    components = (document.components.schemas or {}) if document.components else {}
    for schema in components.values():
        if schema.title in closed:
            schema.additional_properties = False
        for node in _walk(schema):
            _scope_constraints(node)
    for path_item in (document.paths or {}).values():
        for method in _METHODS:
            operation = getattr(path_item, method, None)
            if isinstance(operation, Operation):
                for parameter in operation.parameters or ():
                    if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
                        parameter.schema = _not_null(parameter.schema)


def _walk(schema: Schema) -> Iterator[Schema]:
    yield schema
    children: list[Schema | Reference] = [
        *(schema.properties or {}).values(), *(schema.one_of or ()), *(schema.any_of or ()),
    ]
    if isinstance(schema.items, Schema):
        children.append(schema.items)
    if isinstance(schema.additional_properties, Schema):
        children.append(schema.additional_properties)
    for child in children:
        if isinstance(child, Schema):
            yield from _walk(child)


def _value_member(schema: Schema) -> Schema | None:
    """The one non-null member of ``oneOf: [X, null]``."""
    members = schema.one_of or []
    values = [m for m in members if not (isinstance(m, Schema) and m.type == OpenAPIType.NULL)]
    if len(members) == 2 and len(values) == 1 and isinstance(values[0], Schema):
        return values[0]
    return None


def _scope_constraints(schema: Schema) -> None:
    value = _value_member(schema)
    if value is None:
        return
    for name in _CONSTRAINTS:
        constraint = getattr(schema, name)
        if constraint is not None:
            if getattr(value, name) is None:
                setattr(value, name, constraint)
            setattr(schema, name, None)
    if schema.items is not None:  # declared with ``schema_extra``: it states the items exactly
        value.items, schema.items = schema.items, None


def _not_null(schema: Schema) -> Schema:
    _scope_constraints(schema)
    value = _value_member(schema)
    if value is not None:
        value.description = value.description or schema.description
        if value.default is None:
            value.default = schema.default
        return value
    if isinstance(schema.type, list) and OpenAPIType.NULL in schema.type:
        kept = [t for t in schema.type if t != OpenAPIType.NULL]
        schema.type = kept[0] if len(kept) == 1 else kept
        if schema.enum is not None:
            schema.enum = [v for v in schema.enum if v is not None]
    return schema
