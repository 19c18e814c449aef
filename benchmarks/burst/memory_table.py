"""A DynamoDB table in memory that answers the calls the real ``Ledger`` and sweeper make.

moto's DynamoDB is too slow for the burst (wiring.py has the figures), so the model keeps the
ledger here: ``MemoryTable.table`` is the boto3 ``Table`` resource surface ledger.py uses,
``MemoryTable.client`` the low-level client surface (its transactions, the sweeper's Query).
Both read and write one store, so the sweeper sees what the functions wrote.

The expressions are parsed, not matched as strings, but only the grammar ledger.py and the
sweeper use is implemented; anything else raises ``NotImplementedError`` naming it, so a new
expression is refused rather than answered wrongly:

- conditions (condition, key-condition, filter): ``AND``, ``OR``, ``NOT``, parentheses,
  ``= <> < <= > >=``, ``IN (...)``, ``attribute_exists``, ``attribute_not_exists``,
  ``begins_with``; top-level attribute names, plain or as ``#placeholders`` (no nested paths);
- updates: ``SET path = :value`` and ``REMOVE path``;
- PutItem, GetItem, UpdateItem (ReturnValues NONE or ALL_NEW), Query (a partition of the table
  or a global secondary index, either direction, 1 MB pages, ExclusiveStartKey), and
  TransactWriteItems with Put, Update and ConditionCheck actions.

It makes the checks DynamoDB makes that a change to ledger.py could trip: an unused or
undefined placeholder, one item twice in a transaction, a key attribute in an update, a path
both SET and REMOVEd, a consistent read of a global secondary index, a float (boto3 refuses
them). It leaves out capacity, throttling, item-size limits and reserved words; its indexes
answer at once (DynamoDB's global secondary indexes are eventually consistent).
tests/handlers/test_burst_table.py runs the same Ledger calls against it and moto's DynamoDB.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, ConditionExpressionBuilder
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

# A Query returns at most 1 MB of items a page (docs/sweeper.md).
QUERY_PAGE_BYTES = 1024 * 1024
_MISSING = object()
_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize

Item = dict[str, Any]
Node = tuple[Any, ...]


def _error(code: str, message: str, operation: str, **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, **extra}, operation)


# --- expressions -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(<>|<=|>=|=|<|>|\(|\)|,)|([#:]?[A-Za-z_][A-Za-z0-9_]*)|(\S))")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN", "SET", "REMOVE", "ADD", "DELETE"}
_FUNCTIONS = {"attribute_exists", "attribute_not_exists", "begins_with"}
_CLAUSE_ENDS = {None, ",", "SET", "REMOVE", "ADD", "DELETE"}
_SYMBOLS = {"<>", "<=", ">=", "=", "<", ">", "(", ")", ","}


def _tokens(expression: str) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(expression):
        symbol, word, other = match.groups()
        if other is not None:
            raise NotImplementedError(f"{other!r} in {expression!r} (nested paths, arithmetic)")
        token = symbol or word
        tokens.append(token.upper() if token.upper() in _KEYWORDS else token)
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"Invalid expression {self.expression!r}: expected {expected!r}")
        self.at += 1
        return token

    def end(self) -> None:
        if self.peek() is not None:
            raise ValueError(f"Invalid expression {self.expression!r} at {self.peek()!r}")

    def condition(self) -> Node:
        node = self.conjunction()
        while self.peek() == "OR":
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.peek() == "AND":
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.peek() == "NOT":
            self.take()
            return ("not", self.negation())
        if self.peek() == "(":
            self.take()
            node = self.condition()
            self.take(")")
            return node
        if self.peek() in _FUNCTIONS:
            name = self.take()
            self.take("(")
            arguments = [self.operand()]
            while self.peek() == ",":
                self.take()
                arguments.append(self.operand())
            self.take(")")
            return ("function", name, tuple(arguments))
        left = self.operand()
        operator = self.take()
        if operator in {"=", "<>", "<", "<=", ">", ">="}:
            return ("compare", operator, left, self.operand())
        if operator == "IN":
            self.take("(")
            options = [self.operand()]
            while self.peek() == ",":
                self.take()
                options.append(self.operand())
            self.take(")")
            return ("in", left, tuple(options))
        raise NotImplementedError(f"{operator!r} in {self.expression!r}")

    def operand(self) -> Node:
        token = self.take()
        if token.startswith(":"):
            return ("value", token)
        if token in _KEYWORDS or token in _SYMBOLS or token in _FUNCTIONS:
            raise NotImplementedError(f"{token!r} as an operand in {self.expression!r}")
        return ("path", token)

    def path(self) -> Node:
        node = self.operand()
        if node[0] != "path":
            raise ValueError(f"Invalid expression {self.expression!r}: {node[1]} is no path")
        return node

    def update(self) -> tuple[tuple[tuple[Node, Node], ...], tuple[Node, ...]]:
        sets: list[tuple[Node, Node]] = []
        removes: list[Node] = []
        while self.peek() is not None:
            clause = self.take()
            if clause == "SET":
                while True:
                    target = self.path()
                    self.take("=")
                    value = self.operand()
                    if value[0] != "value" or self.peek() not in _CLAUSE_ENDS:
                        # Only `path = :value`: no arithmetic, functions or path-to-path.
                        raise NotImplementedError(f"SET {target[1]} in {self.expression!r}")
                    sets.append((target, value))
                    if self.peek() != ",":
                        break
                    self.take()
            elif clause == "REMOVE":
                removes.append(self.path())
                while self.peek() == ",":
                    self.take()
                    removes.append(self.path())
            else:
                raise NotImplementedError(f"{clause!r} clause in {self.expression!r}")
        return tuple(sets), tuple(removes)


@functools.lru_cache(maxsize=512)
def parse_condition(expression: str) -> Node:
    """The syntax tree of a condition (also a key condition or a filter)."""
    parser = _Parser(expression)
    node = parser.condition()
    parser.end()
    return node


@functools.lru_cache(maxsize=512)
def parse_update(expression: str) -> tuple[tuple[tuple[Node, Node], ...], tuple[Node, ...]]:
    """The ``(path, value)`` assignments and the removed paths of an update expression."""
    return _Parser(expression).update()


def _placeholders(node: Any) -> Iterable[str]:
    if isinstance(node, tuple):
        if len(node) == 2 and node[0] in {"path", "value"}:
            if node[1][0] in "#:":
                yield node[1]
            return
        for part in node:
            yield from _placeholders(part)


@functools.lru_cache(maxsize=512)
def _used(trees: tuple[Any, ...]) -> frozenset[str]:
    """The placeholders some expressions use (cached: the ledger sends the same few)."""
    return frozenset(_placeholders(trees))


class _Request:
    """One request's placeholders, checked as DynamoDB checks them."""

    def __init__(self, names: Mapping[str, str] | None, values: Mapping[str, Any] | None) -> None:
        self.names, self.values = dict(names or {}), dict(values or {})

    def check(self, *trees: Any) -> None:
        used = _used(trees)
        for kind, given in (("Names", self.names), ("Values", self.values)):
            unused = set(given) - used
            if unused:
                raise _error(
                    "ValidationException",
                    f"Value provided in ExpressionAttribute{kind} unused in expressions: "
                    f"keys: {{{', '.join(sorted(unused))}}}",
                    "Request",
                )
        for placeholder in used:
            if placeholder not in (self.names if placeholder[0] == "#" else self.values):
                kind = "name" if placeholder[0] == "#" else "value"
                raise _error(
                    "ValidationException",
                    f"An expression attribute {kind} used in expression is not defined; "
                    f"attribute {kind}: {placeholder}",
                    "Request",
                )

    def name(self, node: Node) -> str:
        token = str(node[1])
        return self.names[token] if token.startswith("#") else token

    def operand(self, node: Node, item: Mapping[str, Any]) -> Any:
        if node[0] == "value":
            return self.values[node[1]]
        return item.get(self.name(node), _MISSING)

    def holds(self, node: Node, item: Mapping[str, Any]) -> bool:
        """Whether the condition ``node`` holds for ``item`` (an absent item: ``{}``)."""
        kind = node[0]
        if kind == "and":
            return self.holds(node[1], item) and self.holds(node[2], item)
        if kind == "or":
            return self.holds(node[1], item) or self.holds(node[2], item)
        if kind == "not":
            return not self.holds(node[1], item)
        if kind == "function":
            name, arguments = node[1], node[2]
            if name in {"attribute_exists", "attribute_not_exists"}:
                exists = self.name(arguments[0]) in item
                return exists if name == "attribute_exists" else not exists
            value, prefix = (self.operand(argument, item) for argument in arguments)
            return isinstance(value, str) and isinstance(prefix, str) and value.startswith(prefix)
        if kind == "in":
            value = self.operand(node[1], item)
            return any(_compare("=", value, self.operand(o, item)) for o in node[2])
        return _compare(node[1], self.operand(node[2], item), self.operand(node[3], item))


def _compare(operator: str, left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING:
        if operator == "<>":
            # Not needed by the ledger (it tests attribute_not_exists first): not guessed.
            raise NotImplementedError("<> with an absent attribute")
        return False
    if operator in {"=", "<>"}:
        same = type(left) is type(right) and left == right
        return same if operator == "=" else not same
    if not (type(left) is type(right) and isinstance(left, str | Decimal | bytes)):
        return False
    if operator == "<":
        return bool(left < right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">":
        return bool(left > right)
    return bool(left >= right)


# --- the table -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as the resource stores and returns it (numbers as Decimal; floats refused)."""
    kind = type(value)
    if kind is str or kind is Decimal or kind is bool or value is None:
        return value  # the common cases, unchanged by boto3's round trip
    if kind is int:
        return Decimal(value)
    return _deserialize(_serialize(value))


def _copy(item: Mapping[str, Any]) -> Item:
    return {name: list(value) if isinstance(value, list) else value for name, value in item.items()}


def _size(item: Mapping[str, Any]) -> int:
    """About the bytes DynamoDB counts for an item: names and values."""
    return sum(len(name) + len(str(value)) for name, value in item.items())


class MemoryTable:
    """One DynamoDB table (string keys) in memory, with its global secondary indexes."""

    def __init__(
        self,
        name: str,
        partition_key: str,
        sort_key: str,
        indexes: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.name, self.partition_key, self.sort_key = name, partition_key, sort_key
        self.indexes = dict(indexes or {})
        self.partitions: dict[str, dict[str, Item]] = {}
        # Each index's members, by table key; sorted when queried.
        self.members: dict[str, set[tuple[str, str]]] = {name: set() for name in self.indexes}
        self.client = _Client(self)
        self.table = _TableResource(self)

    # --- storage -------------------------------------------------------------------------------

    def key_of(self, key: Mapping[str, Any]) -> tuple[str, str]:
        """The ``(partition, sort)`` key of a Key (or item); ValidationException if not one."""
        try:
            partition, sort = key[self.partition_key], key[self.sort_key]
        except KeyError:
            raise _error(
                "ValidationException",
                "The provided key element does not match the schema",
                "Request",
            ) from None
        if not isinstance(partition, str) or not isinstance(sort, str):
            raise _error("ValidationException", "The key elements must be strings", "Request")
        return partition, sort

    def get(self, key: tuple[str, str]) -> Item | None:
        """The stored item (not a copy), or None."""
        return self.partitions.get(key[0], {}).get(key[1])

    def store(self, key: tuple[str, str], item: Item) -> None:
        """Write an item whole and keep the indexes."""
        self.partitions.setdefault(key[0], {})[key[1]] = item
        for index, (partition, sort) in self.indexes.items():
            if isinstance(item.get(partition), str) and isinstance(item.get(sort), str):
                self.members[index].add(key)
            else:
                self.members[index].discard(key)

    def items(self) -> list[Item]:
        """Every item, copied (for tests and counts)."""
        return [
            _copy(item) for partition in self.partitions.values() for item in partition.values()
        ]

    def _tablename(self, name: str, operation: str) -> None:
        if name != self.name:
            raise _error("ResourceNotFoundException", f"Table {name!r} not found", operation)

    # --- the operations, on plain values -------------------------------------------------------

    def put(self, item: Item, condition: str | None, request: _Request) -> Callable[[], None]:
        """Check a Put; the write to make if it passes (ConditionalCheckFailed if not)."""
        tree = parse_condition(condition) if condition else None
        request.check(tree)
        key = self.key_of(item)
        if tree is not None and not request.holds(tree, self.get(key) or {}):
            raise _conditional_failure()
        return lambda: self.store(key, _copy(item))

    def update(
        self, key_value: Mapping[str, Any], update: str, condition: str | None, request: _Request
    ) -> tuple[Callable[[], Item], tuple[str, str]]:
        """Check an Update; the write to make (returning the new item) if it passes."""
        key = self.key_of(key_value)
        sets, removes = parse_update(update)
        tree = parse_condition(condition) if condition else None
        request.check(sets, removes, tree)
        targets = [request.name(target) for target, _ in sets]
        removed = [request.name(path) for path in removes]
        if {self.partition_key, self.sort_key} & {*targets, *removed}:
            raise _error(
                "ValidationException",
                "Cannot update attribute of the key; this attribute is part of the key",
                "UpdateItem",
            )
        if len({*targets, *removed}) < len(targets) + len(removed):
            raise _error("ValidationException", f"Two document paths overlap in {update!r}",
                         "UpdateItem")  # fmt: skip
        current = self.get(key)
        if tree is not None and not request.holds(tree, current or {}):
            raise _conditional_failure()
        values = [request.values[value[1]] for _, value in sets]

        def write() -> Item:
            item = _copy(current) if current is not None else dict(zip(
                (self.partition_key, self.sort_key), key, strict=True))  # fmt: skip
            for name, value in zip(targets, values, strict=True):
                item[name] = value
            for name in removed:
                item.pop(name, None)
            self.store(key, item)
            return item

        return write, key

    def check_condition(
        self, key_value: Mapping[str, Any], condition: str, request: _Request
    ) -> None:
        """A ConditionCheck: ConditionalCheckFailed unless the condition holds."""
        tree = parse_condition(condition)
        request.check(tree)
        if not request.holds(tree, self.get(self.key_of(key_value)) or {}):
            raise _conditional_failure()

    def query(
        self,
        *,
        key_condition: str,
        filter_expression: str | None,
        request: _Request,
        index: str | None,
        consistent: bool,
        forward: bool,
        start: Mapping[str, Any] | None,
    ) -> tuple[list[Item], Item | None]:
        """One page of a Query: the matching items and the LastEvaluatedKey, if any."""
        key_tree = parse_condition(key_condition)
        filter_tree = parse_condition(filter_expression) if filter_expression else None
        request.check(key_tree, filter_tree)
        if index is None:
            partition_key, sort_key = self.partition_key, self.sort_key
        elif index not in self.indexes:
            raise _error("ValidationException", f"The table does not have index {index}", "Query")
        elif consistent:
            raise _error("ValidationException",
                         "Consistent reads are not supported on global secondary indexes",
                         "Query")  # fmt: skip
        else:
            partition_key, sort_key = self.indexes[index]
        partition = self._partition_value(key_tree, partition_key, request)
        candidates: Iterable[Item]
        if index is None:
            candidates = self.partitions.get(partition, {}).values()
        else:
            candidates = (
                item
                for key in self.members[index]
                if (item := self.get(key)) is not None and item[partition_key] == partition
            )
        order = sorted(
            ((item[sort_key], item[self.partition_key], item[self.sort_key]), item)
            for item in candidates
            if request.holds(key_tree, item)
        )
        if not forward:
            order.reverse()
        positions = [position for position, _ in order]
        first = 0
        if start is not None:
            after = (start[sort_key], start[self.partition_key], start[self.sort_key])
            first = (
                bisect.bisect_right(positions, after)
                if forward
                else len(positions) - bisect.bisect_left(positions[::-1], after)
            )
        page: list[Item] = []
        size = 0
        for at in range(first, len(order)):
            item = order[at][1]
            size += _size(item)
            if size > QUERY_PAGE_BYTES and at > first:
                last = order[at - 1][1]
                names = {partition_key, sort_key, self.partition_key, self.sort_key}
                return page, {name: last[name] for name in names}
            if filter_tree is None or request.holds(filter_tree, item):
                page.append(_copy(item))
        return page, None

    def _partition_value(self, tree: Node, name: str, request: _Request) -> Any:
        """The value the key condition requires of the partition key (an equality under AND)."""
        if tree[0] == "and":
            for part in tree[1:]:
                found = self._partition_value(part, name, request)
                if found is not _MISSING:
                    return found
        elif tree[0] == "compare" and tree[1] == "=":
            left, right = tree[2], tree[3]
            if left[0] == "path" and request.name(left) == name and right[0] == "value":
                return request.values[right[1]]
        if tree[0] == "and":
            return _MISSING
        raise _error("ValidationException",
                     f"Query condition missed key schema element: {name}", "Query")  # fmt: skip


def _conditional_failure() -> ClientError:
    return _error(
        "ConditionalCheckFailedException", "The conditional request failed", "ConditionalWrite"
    )


def _plain_values(values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {name: _plain(value) for name, value in (values or {}).items()}


class _TableResource:
    """The boto3 ``Table`` resource surface: plain Python values, boto3 condition objects."""

    def __init__(self, store: MemoryTable) -> None:
        self._store = store
        self.name = store.name
        # Ledger() reads it (to build its own client when given none).
        self.meta = SimpleNamespace(client=store.client)

    @staticmethod
    def _expressions(
        names: Mapping[str, str] | None, values: Mapping[str, Any] | None, **conditions: Any
    ) -> tuple[_Request, dict[str, str | None]]:
        """Condition objects built into expressions, as the resource does before sending."""
        builder = ConditionExpressionBuilder()
        merged_names, merged_values = dict(names or {}), _plain_values(values)
        built: dict[str, str | None] = {}
        for field, condition in conditions.items():
            if isinstance(condition, ConditionBase):
                expression = builder.build_expression(
                    condition, is_key_condition=field == "key_condition"
                )
                merged_names.update(expression.attribute_name_placeholders)
                merged_values.update(_plain_values(expression.attribute_value_placeholders))
                built[field] = expression.condition_expression
            else:
                built[field] = condition
        return _Request(merged_names, merged_values), built

    def put_item(
        self,
        *,
        Item: Mapping[str, Any],  # noqa: N803 - boto3's parameter names
        ConditionExpression: Any = None,  # noqa: N803
        ExpressionAttributeNames: Mapping[str, str] | None = None,  # noqa: N803
        ExpressionAttributeValues: Mapping[str, Any] | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        request, built = self._expressions(
            ExpressionAttributeNames, ExpressionAttributeValues, condition=ConditionExpression
        )
        item = {name: _plain(value) for name, value in Item.items()}
        self._store.put(item, built["condition"], request)()
        return {}

    def get_item(
        self,
        *,
        Key: Mapping[str, Any],  # noqa: N803
        ConsistentRead: bool = False,  # noqa: N803 - every read here is consistent
    ) -> dict[str, Any]:
        item = self._store.get(self._store.key_of(Key))
        return {} if item is None else {"Item": _copy(item)}

    def update_item(
        self,
        *,
        Key: Mapping[str, Any],  # noqa: N803
        UpdateExpression: str,  # noqa: N803
        ConditionExpression: Any = None,  # noqa: N803
        ExpressionAttributeNames: Mapping[str, str] | None = None,  # noqa: N803
        ExpressionAttributeValues: Mapping[str, Any] | None = None,  # noqa: N803
        ReturnValues: str = "NONE",  # noqa: N803
    ) -> dict[str, Any]:
        if ReturnValues not in {"NONE", "ALL_NEW"}:
            raise NotImplementedError(f"ReturnValues={ReturnValues}")
        request, built = self._expressions(
            ExpressionAttributeNames, ExpressionAttributeValues, condition=ConditionExpression
        )
        write, _ = self._store.update(Key, UpdateExpression, built["condition"], request)
        item = write()
        return {"Attributes": _copy(item)} if ReturnValues == "ALL_NEW" else {}

    def query(
        self,
        *,
        KeyConditionExpression: Any,  # noqa: N803
        FilterExpression: Any = None,  # noqa: N803
        IndexName: str | None = None,  # noqa: N803
        ConsistentRead: bool = False,  # noqa: N803
        ScanIndexForward: bool = True,  # noqa: N803
        ExclusiveStartKey: Mapping[str, Any] | None = None,  # noqa: N803
        ExpressionAttributeNames: Mapping[str, str] | None = None,  # noqa: N803
        ExpressionAttributeValues: Mapping[str, Any] | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        request, built = self._expressions(
            ExpressionAttributeNames,
            ExpressionAttributeValues,
            key_condition=KeyConditionExpression,
            filter=FilterExpression,
        )
        page, last = self._store.query(
            key_condition=str(built["key_condition"]),
            filter_expression=built["filter"],
            request=request,
            index=IndexName,
            consistent=ConsistentRead,
            forward=ScanIndexForward,
            start=ExclusiveStartKey,
        )
        response: dict[str, Any] = {"Items": page, "Count": len(page)}
        if last is not None:
            response["LastEvaluatedKey"] = last
        return response


def _typed(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in item.items()}


def _untyped(item: Mapping[str, Any] | None) -> dict[str, Any]:
    return {name: _deserialize(value) for name, value in (item or {}).items()}


class _Client:
    """The low-level client surface: typed values (``{"S": ...}``), table names per request."""

    def __init__(self, store: MemoryTable) -> None:
        self._store = store

    def query(
        self,
        *,
        TableName: str,  # noqa: N803
        KeyConditionExpression: str,  # noqa: N803
        ExpressionAttributeNames: Mapping[str, str] | None = None,  # noqa: N803
        ExpressionAttributeValues: Mapping[str, Any] | None = None,  # noqa: N803
        FilterExpression: str | None = None,  # noqa: N803
        IndexName: str | None = None,  # noqa: N803
        ConsistentRead: bool = False,  # noqa: N803
        ScanIndexForward: bool = True,  # noqa: N803
        ExclusiveStartKey: Mapping[str, Any] | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        self._store._tablename(TableName, "Query")
        page, last = self._store.query(
            key_condition=KeyConditionExpression,
            filter_expression=FilterExpression,
            request=_Request(ExpressionAttributeNames, _untyped(ExpressionAttributeValues)),
            index=IndexName,
            consistent=ConsistentRead,
            forward=ScanIndexForward,
            start=_untyped(ExclusiveStartKey) if ExclusiveStartKey else None,
        )
        response: dict[str, Any] = {"Items": [_typed(item) for item in page], "Count": len(page)}
        if last is not None:
            response["LastEvaluatedKey"] = _typed(last)
        return response

    def transact_write_items(
        self,
        *,
        TransactItems: list[Mapping[str, Any]],  # noqa: N803
    ) -> dict[str, Any]:
        """All or nothing: every condition is checked before any write is made."""
        store = self._store
        writes: list[Callable[[], Any]] = []
        reasons: list[dict[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for action in TransactItems:
            (kind, body), *more = action.items()
            if more or kind not in {"Put", "Update", "ConditionCheck"}:
                raise NotImplementedError(f"Transaction action {list(action)}")
            store._tablename(body["TableName"], "TransactWriteItems")
            request = _Request(
                body.get("ExpressionAttributeNames"),
                _untyped(body.get("ExpressionAttributeValues")),
            )
            condition = body.get("ConditionExpression")
            key_value = _untyped(body["Item"] if kind == "Put" else body["Key"])
            key = store.key_of(key_value)
            if key in seen:
                raise _error(
                    "ValidationException",
                    "Transaction request cannot include multiple operations on one item",
                    "TransactWriteItems",
                )
            seen.add(key)
            try:
                if kind == "Put":
                    writes.append(store.put(key_value, condition, request))
                elif kind == "Update":
                    writes.append(
                        store.update(key_value, body["UpdateExpression"], condition, request)[0]
                    )
                else:
                    store.check_condition(key_value, condition, request)
                reasons.append({"Code": "None"})
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                reasons.append(
                    {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
                )
        if any(reason["Code"] != "None" for reason in reasons):
            codes = ", ".join(reason["Code"] for reason in reasons)
            raise _error(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific "
                f"reasons [{codes}]",
                "TransactWriteItems",
                CancellationReasons=reasons,
            )
        for write in writes:
            write()
        return {}
