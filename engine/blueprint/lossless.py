"""A pydantic base model that exports exactly what it imported.

Make's blueprints carry many keys we do not model (UI metadata, app-specific settings). A user who
imports a blueprint and exports it again must get the same JSON back: the same keys, in the same
order, with no defaults added. ``LosslessModel`` keeps unknown keys (``extra="allow"``), remembers
the key order it was given, and exports only the keys that were given or set since.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel


class LosslessModel(BaseModel):
    """Base of every blueprint model: unknown keys kept, key order kept, nothing added."""

    model_config = ConfigDict(
        extra="allow",
        alias_generator=to_camel,
        populate_by_name=True,
        strict=True,
        validate_assignment=True,
        serialize_by_alias=True,
    )

    _key_order: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_key_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, LosslessModel):
            model._key_order = tuple(data)
        return model

    @model_serializer(mode="wrap")
    def _export_as_imported(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        present = self._present_keys(info.by_alias is not False)
        ordered = {key: dumped[key] for key in self._key_order if key in present and key in dumped}
        ordered.update((k, v) for k, v in dumped.items() if k in present and k not in ordered)
        return ordered

    def _present_keys(self, by_alias: bool) -> set[str]:
        """Keys that were given on import or set afterwards, plus the unknown ones kept."""
        fields = type(self).model_fields
        names = {
            (fields[name].alias or name) if by_alias and name in fields else name
            for name in self.model_fields_set
        }
        return names | set(self.__pydantic_extra__ or {})
