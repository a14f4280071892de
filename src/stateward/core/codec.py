"""The serializer every saver uses: LangGraph's msgpack format, made safe.

It writes what LangGraph's ``JsonPlusSerializer`` writes, with two differences:

* integers beyond 64 bits are stored (as a tagged extension) instead of failing;
* on load, a stored constructor is honoured only for a type on the allowlist
  (LangGraph's built-in safe types plus what the caller adds). Anything else raises
  :class:`~stateward.errors.SerializationError` naming the type: nothing is imported
  on the say-so of stored bytes, and nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections import deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Final

import ormsgpack
from langgraph.checkpoint.serde import _msgpack as lg_msgpack
from langgraph.checkpoint.serde import jsonplus
from langgraph.checkpoint.serde.base import SerializerProtocol

from stateward import errors

EXT_BIG_INT: Final = 64
"""Extension code for an integer that does not fit msgpack's 64 bits (decimal text)."""

_PACK_OPTIONS: Final = (
    ormsgpack.OPT_NON_STR_KEYS
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_PASSTHROUGH_BIG_INT
)

_CONSTRUCTOR_CODES: Final = frozenset(
    {
        jsonplus.EXT_CONSTRUCTOR_SINGLE_ARG,
        jsonplus.EXT_CONSTRUCTOR_POS_ARGS,
        jsonplus.EXT_CONSTRUCTOR_KW_ARGS,
        jsonplus.EXT_PYDANTIC_V1,
        jsonplus.EXT_PYDANTIC_V2,
    }
)

TypeKey = tuple[str, str]


def _pack(obj: Any) -> bytes:
    return ormsgpack.packb(obj, default=_default, option=_PACK_OPTIONS)


def _constructor(code: int, obj: Any, args: Any, *extra: str) -> ormsgpack.Ext:
    cls = type(obj)
    return ormsgpack.Ext(code, _pack((cls.__module__, cls.__name__, args, *extra)))


def _default(obj: Any) -> Any:
    """Encode what msgpack cannot, as LangGraph does.

    Containers are encoded here, not by LangGraph's encoder, so that what they hold
    goes through this function too (an integer beyond 64 bits inside a set, say).
    Leaf types (dates, UUIDs, paths...) hold no integer that could overflow and are
    left to LangGraph's encoder.
    """
    if isinstance(obj, int):  # only ints beyond 64 bits reach here
        return ormsgpack.Ext(EXT_BIG_INT, str(obj).encode())
    ext = _container(obj)
    if ext is None:
        return jsonplus._msgpack_default(obj)
    return ext


def _container(obj: Any) -> ormsgpack.Ext | None:
    if isinstance(obj, set | frozenset | deque):
        return _constructor(jsonplus.EXT_CONSTRUCTOR_SINGLE_ARG, obj, tuple(obj))
    if isinstance(obj, Enum):
        return _constructor(jsonplus.EXT_CONSTRUCTOR_SINGLE_ARG, obj, obj.value)
    if callable(getattr(obj, "model_dump", None)):  # pydantic v2
        return _constructor(
            jsonplus.EXT_PYDANTIC_V2, obj, obj.model_dump(), "model_validate_json"
        )
    if callable(getattr(obj, "_asdict", None)):  # namedtuple
        return _constructor(jsonplus.EXT_CONSTRUCTOR_KW_ARGS, obj, obj._asdict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return _constructor(jsonplus.EXT_CONSTRUCTOR_KW_ARGS, obj, fields)
    return None


def _type_key(entry: tuple[str, ...] | type) -> TypeKey:
    if isinstance(entry, type):
        return (entry.__module__, entry.__name__)
    module, name = entry
    return (module, name)


class SafeSerializer(SerializerProtocol):
    """LangGraph-compatible msgpack serializer that refuses unknown types on load.

    Args:
        allowed_types: extra types (classes or ``(module, name)`` pairs) that stored
            data may construct, on top of LangGraph's built-in safe list.
    """

    def __init__(self, allowed_types: Iterable[tuple[str, ...] | type] = ()) -> None:
        self.allowed: frozenset[TypeKey] = frozenset(
            {_type_key(t) for t in lg_msgpack.SAFE_MSGPACK_TYPES}
            | {_type_key(t) for t in allowed_types}
        )

    def with_allowed(self, extra: Iterable[tuple[str, ...] | type]) -> SafeSerializer:
        """Return a serializer that also allows ``extra``."""
        return SafeSerializer([*self.allowed, *extra])

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if obj is None:
            return "null", b""
        if isinstance(obj, bytes):
            return "bytes", obj
        if isinstance(obj, bytearray):
            return "bytearray", bytes(obj)
        try:
            return "msgpack", ormsgpack.packb(
                obj, default=_default, option=_PACK_OPTIONS
            )
        except (ormsgpack.MsgpackEncodeError, TypeError) as exc:
            raise errors.SerializationError(
                f"cannot serialise a value of type {type(obj).__name__}: {exc}"
            ) from exc

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, payload = data
        if type_ == "null":
            return None
        if type_ == "bytes":
            return payload
        if type_ == "bytearray":
            return bytearray(payload)
        if type_ == "msgpack":
            return self._unpack(payload)
        raise errors.SerializationError(
            f"refusing to load a stored value of type {type_!r}: only msgpack, bytes "
            "and null are readable (pickle never is)"
        )

    def _unpack(self, payload: bytes) -> Any:
        # ormsgpack replaces whatever an ext hook raises with a bare "ext_hook
        # failed"; keep our own error so the caller learns which type was refused.
        refused: list[errors.SerializationError] = []

        def hook(code: int, data: bytes) -> Any:
            try:
                return self._ext_hook(code, data)
            except errors.SerializationError as exc:
                refused.append(exc)
                raise

        try:
            return ormsgpack.unpackb(
                payload, ext_hook=hook, option=ormsgpack.OPT_NON_STR_KEYS
            )
        except (ormsgpack.MsgpackDecodeError, ValueError) as exc:
            if refused:
                raise refused[0] from None
            raise errors.SerializationError(f"corrupt stored value: {exc}") from exc

    def _ext_hook(self, code: int, data: bytes) -> Any:
        if code == EXT_BIG_INT:
            return int(data.decode())
        if code in _CONSTRUCTOR_CODES:
            return self._construct(code, self._unpack(data))
        if code == jsonplus.EXT_METHOD_SINGLE_ARG:
            return self._call_method(self._unpack(data))
        raise errors.SerializationError(f"unsupported stored extension type {code}")

    def _resolve(self, module: str, name: str) -> Callable[..., Any]:
        if (module, name) not in self.allowed:
            raise errors.SerializationError(
                f"stored data names type {module}.{name}, which is not allowed; "
                f"pass allowed_types=[({module!r}, {name!r})] to the saver to load it"
            )
        target: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return target

    def _construct(self, code: int, parts: list[Any]) -> Any:
        module, name, args = parts[0], parts[1], parts[2]
        if (module, name) == ("langgraph.types", "Send"):
            return jsonplus._send_from_args(args)
        cls = self._resolve(module, name)
        if code == jsonplus.EXT_CONSTRUCTOR_SINGLE_ARG:
            return cls(args)
        if code == jsonplus.EXT_CONSTRUCTOR_POS_ARGS:
            return cls(*args)
        return cls(**args)

    def _call_method(self, parts: list[Any]) -> Any:
        module, name, arg, method = parts[0], parts[1], parts[2], parts[3]
        if (module, name, method) not in lg_msgpack.SAFE_MSGPACK_METHODS:
            raise errors.SerializationError(
                f"stored data calls {module}.{name}.{method}, which is not allowed"
            )
        return getattr(self._resolve(module, name), method)(arg)
