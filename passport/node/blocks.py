"""Runs of inline opcodes compiled to Python functions, for :mod:`passport.node.interpreter`.

The inline loop still pays a dispatch per opcode, and half of what Solidity code executes
(PUSH, DUP, SWAP, POP, JUMPDEST) only moves values around. A *block* here is a straight run of
inline opcodes (those the loop runs itself, see ``_INLINE_LOGIC`` there) that starts at a
leader (the code's start, a JUMPDEST, the instruction after a JUMPI or after an opcode py-evm
runs) and ends at a JUMP, a JUMPI, before a JUMPDEST or before an opcode py-evm runs. Each
block becomes one Python function in which the stack is symbolic: PUSH, DUP, SWAP and POP move
names at compile time and cost nothing at run time, constant operands are folded, and the stack
list is written once, at the end.

The checks py-evm makes per opcode are made once per block, at its entry, as an interpreter
with block-level gas and stack checks does (evmone's "advanced" one): enough values on the
stack for the whole block, room for the most it pushes, and gas for the sum of its constant
costs. If any fails, the function returns None having changed nothing, and the loop runs the
block's opcodes one by one, which raise exactly where and as py-evm does. Memory growth is the
only cost a block cannot know in advance: MSTORE and MLOAD grow memory in place at py-evm's
price (:func:`grown`); when that is not done (out of gas, an end past 4 GiB, an
exported buffer), the function writes back the stack as it was before that opcode, gives back
the gas of the opcodes not yet run, and returns that opcode's position, so the loop runs it and
the rest one by one. Nothing a block does is observable before its end other than memory
writes and growth, which are the ones the opcodes before the stopping one would have made.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from eth.exceptions import InvalidInstruction, InvalidJumpDestination

from passport.exceptions import EvmTimeout

JUMP, JUMPI, JUMPDEST = 0x56, 0x57, 0x5B
PUSH0, PUSH1, PUSH32 = 0x5F, 0x60, 0x7F
MLOAD, MSTORE = 0x51, 0x52
STACK_LIMIT = 1024

# a block function: (stack, gas, memory bytes, calldata, message, deadline) -> (pc, gas) or None
Block = Callable[[list[int], int, bytearray, bytes, Any, "float | None"], "tuple[int, int] | None"]

_BINARY = {
    0x01: "({a} + {b}) & M",
    0x02: "({a} * {b}) & M",
    0x03: "({a} - {b}) & M",
    0x04: "0 if {b} == 0 else {a} // {b}",
    0x06: "0 if {b} == 0 else {a} % {b}",
    0x10: "1 if {a} < {b} else 0",
    0x11: "1 if {a} > {b} else 0",
    0x12: "1 if {a} ^ S < {b} ^ S else 0",
    0x13: "1 if {a} ^ S > {b} ^ S else 0",
    0x14: "1 if {a} == {b} else 0",
    0x16: "{a} & {b}",
    0x17: "{a} | {b}",
    0x18: "{a} ^ {b}",
    0x1B: "0 if {a} >= 256 else ({b} << {a}) & M",
    0x1C: "0 if {a} >= 256 else {b} >> {a}",
}
_UNARY = {
    0x15: "0 if {a} else 1",
    0x19: "M - {a}",
    0x35: "int.from_bytes(cd[{a}:{a} + 32].ljust(32, b'\\x00'), 'big')",
}
_NULLARY = {0x33: "int.from_bytes(msg.sender, 'big')", 0x34: "msg.value", 0x36: "len(cd)"}
_FOLDABLE = set(_BINARY) | {0x15, 0x19}
_HANDLED = {
    *_BINARY, *_UNARY, *_NULLARY, MLOAD, MSTORE, JUMP, JUMPI, JUMPDEST, 0x50, PUSH0,
    *range(PUSH1, PUSH32 + 1), *range(0x80, 0xA0),
}  # fmt: skip
UINT_256_MAX = 2**256 - 1
SIGN_BIT = 2**255
# memory grown in place up to this many bytes; past it growth costs more gas than any call has
# (about 3.5e13), and is left to py-evm
MAX_INLINE_MEMORY = 2**32


def _is_literal(expr: str) -> bool:
    return expr[0].isdigit()


class _Writer:
    """One block's source, built while its stack is simulated by name."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.lines: list[str] = []
        self.stack: list[str] = []  # expressions, bottom first; inputs are a1 (the top at entry), a2, ...
        self.inputs = 0  # how many values below the entry's top the block reaches
        self.height = 0  # values pushed above the entry's (relative), at most
        self.temps = 0

    def need(self, n: int) -> None:
        while len(self.stack) < n:
            self.inputs += 1
            self.stack.insert(0, f"a{self.inputs}")

    def pushed(self, expr: str) -> None:
        self.stack.append(expr)
        self.height = max(self.height, len(self.stack) - self.inputs)

    def temp(self, expr: str) -> str:
        name = f"t{self.temps}"
        self.temps += 1
        self.lines.append(f"    {name} = {expr}")
        return name

    def write_back(self, indent: str = "    ") -> str:
        """The statement that leaves the runtime stack as the simulated one (inputs kept in place
        are not written again)."""
        kept = 0
        for expr in self.stack:
            if expr != f"a{self.inputs - kept}":
                break
            kept += 1
        rest = self.stack[kept:]
        start = f"L - {self.inputs - kept}" if self.inputs - kept else "L"
        if not rest and not self.inputs - kept:
            return ""
        return f"{indent}s[{start}:] = [{', '.join(rest)}]"


def _compile_block(
    code: bytes, start: int, inline_gas: tuple[int, ...], pushes: dict[int, int], destinations: frozenset[int]
) -> str | None:
    """The source of the block starting at ``start`` (a function ``b<start>``), or None when the
    instruction there is not one a block runs."""
    w = _Writer(start)
    ops: list[tuple[int, int]] = []
    pc, size = start, len(code)
    while pc < size:
        op = code[pc]
        if (op == JUMPDEST and pc != start) or inline_gas[op] < 0 or op not in _HANDLED:
            break
        ops.append((pc, op))
        pc += 1 + (op - PUSH0 if PUSH1 <= op <= PUSH32 else 0)
        if op in (JUMP, JUMPI):
            break
    if not ops:
        return None
    costs = [inline_gas[op] for _pc, op in ops]
    rest = [sum(costs[k:]) for k in range(len(costs))]  # gas of the opcodes from k to the end
    end_pc = pc
    ending = f"    return ({end_pc}, gas)"
    for k, (at, op) in enumerate(ops):
        if PUSH1 <= op <= PUSH32:
            w.pushed(str(pushes[at]))
        elif op == PUSH0:
            w.pushed("0")
        elif 0x80 <= op <= 0x8F:  # DUPn
            w.need(op - 0x7F)
            w.pushed(w.stack[0x7F - op])
        elif 0x90 <= op <= 0x9F:  # SWAPn
            w.need(op - 0x8E)
            other = 0x8E - op
            w.stack[-1], w.stack[other] = w.stack[other], w.stack[-1]
        elif op == 0x50:  # POP
            w.need(1)
            w.stack.pop()
        elif op in _BINARY:
            w.need(2)
            a, b = w.stack.pop(), w.stack.pop()
            expr = _BINARY[op].format(a=a, b=b)
            w.pushed(
                str(eval(expr, {"M": UINT_256_MAX, "S": SIGN_BIT}))
                if _is_literal(a) and _is_literal(b)
                else w.temp(expr)
            )
        elif op in _UNARY:
            w.need(1)
            a = w.stack.pop()
            expr = _UNARY[op].format(a=a)
            folded = op in _FOLDABLE and _is_literal(a)
            w.pushed(str(eval(expr, {"M": UINT_256_MAX, "S": SIGN_BIT})) if folded else w.temp(expr))
        elif op in _NULLARY:
            w.pushed(w.temp(_NULLARY[op]))
        elif op in (MLOAD, MSTORE):
            w.need(2 if op == MSTORE else 1)
            before = w.write_back("            ")
            a = w.stack.pop()
            w.lines += [
                f"    if {a} + 32 > len(mb):",
                f"        left = _grown(mb, {a} + 32, gas)",
                "        if left < 0:",
                *([before] if before else []),
                f"            return ({at}, gas + {rest[k]})",
                "        gas = left",
            ]
            if op == MLOAD:
                w.pushed(w.temp(f"int.from_bytes(mb[{a}:{a} + 32], 'big')"))
            else:
                word = w.stack.pop()
                value = (
                    repr(int(word).to_bytes(32, "big"))
                    if _is_literal(word)
                    else f"{word}.to_bytes(32, 'big')"
                )
                w.lines.append(f"    mb[{a}:{a} + 32] = {value}")
        elif op == JUMP:
            w.need(1)
            target = w.stack.pop()
            ending = _jump(target, destinations)
        elif op == JUMPI:
            w.need(2)
            target, condition = w.stack.pop(), w.stack.pop()
            if _is_literal(condition):
                ending = _jump(target, destinations) if int(condition) else ending
            else:
                taken = _jump(target, destinations, "        ")
                ending = f"    if {condition}:\n{taken}\n{ending}"
        # JUMPDEST: its gas and the deadline, at the entry
    head = [
        f"def b{start}(s, gas, mb, cd, msg, at):",
        "    L = len(s)",
        f"    if L < {w.inputs} or L - {w.inputs} + {w.height} > {STACK_LIMIT} or gas < {rest[0]}:",
        "        return None",
    ]
    if ops[0][1] == JUMPDEST:
        head += [
            "    if at is not None and monotonic() > at:",
            f"        raise EvmTimeout('execution passed its deadline at pc {start}')",
        ]
    head += [f"    gas -= {rest[0]}"]
    head += [f"    a{n} = s[-{n}]" for n in range(1, w.inputs + 1)]
    back = w.write_back()
    return "\n".join([*head, *w.lines, *([back] if back else []), ending])


def _jump(target: str, destinations: frozenset[int], indent: str = "    ") -> str:
    if _is_literal(target):
        if int(target) in destinations:
            return f"{indent}return ({target}, gas)"
        return f"{indent}raise bad_jump({target})"
    return (
        f"{indent}if {target} not in D:\n{indent}    raise bad_jump({target})\n{indent}return ({target}, gas)"
    )


def compile_code(
    code: bytes, inline_gas: tuple[int, ...], pushes: dict[int, int], destinations: frozenset[int]
) -> list[Block | None]:
    """A block function, or None, for every position of ``code`` (and one past its end). Each
    block is compiled when it is first entered: a contract's code is large, and a call runs a
    small part of it."""
    namespace: dict[str, Any] = {
        "M": UINT_256_MAX,
        "S": SIGN_BIT,
        "D": destinations,
        "_grown": grown,
        "bad_jump": functools.partial(bad_jump, code),
        "monotonic": time.monotonic,
        "EvmTimeout": EvmTimeout,
    }
    table: list[Block | None] = [None] * (len(code) + 1)

    def first_entry(start: int) -> Block:
        def compile_then_run(
            s: list[int], gas: int, mb: bytearray, cd: bytes, msg: Any, at: float | None
        ) -> tuple[int, int] | None:
            source = _compile_block(code, start, inline_gas, pushes, destinations)
            if source is None:
                table[start] = None
                return None
            exec(compile(source, f"<evm block {start}>", "exec"), namespace)
            block: Block = namespace.pop(f"b{start}")
            table[start] = block
            return block(s, gas, mb, cd, msg, at)

        return compile_then_run

    pc, size = 0, len(code)
    leader = True
    while pc < size:
        op = code[pc]
        if leader or op == JUMPDEST:
            table[pc] = first_entry(pc)
        pc += 1 + (op - PUSH0 if PUSH1 <= op <= PUSH32 else 0)
        leader = op == JUMPI or inline_gas[op] < 0 or op not in _HANDLED
    return table


def grown(memory_: bytearray, end: int, gas: int) -> int:
    """The gas left after growing ``memory_`` (a multiple of 32 bytes long, shorter than ``end``)
    to hold ``end`` bytes, at py-evm's price and rounding (``memory_gas_cost`` of the new size
    less that of the old); -1 when it is not done here, so py-evm does it: out of gas, an end
    beyond what any gas pays for, or the buffer exported (py-evm then copies it)."""
    if end > MAX_INLINE_MEMORY:
        return -1
    before = len(memory_) >> 5
    after = (end + 31) >> 5
    fee = after * 3 + after * after // 512 - before * 3 - before * before // 512
    if fee > gas:
        return -1
    try:
        memory_.extend(bytes((after - before) << 5))
    except BufferError:
        return -1
    return gas - fee


@functools.lru_cache(maxsize=512)
def analysis(code: bytes) -> tuple[frozenset[int], dict[int, int]]:
    """Offsets of JUMPDEST instructions that are not PUSH data, and the value each PUSHn at an
    offset pushes (data cut off by the end of the code is zero-padded, as py-evm reads it)."""
    found = []
    pushes: dict[int, int] = {}
    position = 0
    size = len(code)
    while position < size:
        opcode = code[position]
        if opcode == JUMPDEST:
            found.append(position)
        elif PUSH1 <= opcode <= PUSH32:
            width = opcode - 0x5F
            pushes[position] = int.from_bytes(
                code[position + 1 : position + 1 + width].ljust(width, b"\x00"), "big"
            )
            position += width
        position += 1
    return frozenset(found), pushes


# a code is compiled into blocks (:mod:`passport.node.blocks`) when it starts its run after this
# many: code run once (a creation's, most state tests') is not worth compiling
COMPILE_AFTER_RUNS = 1
_runs: dict[bytes, int] = {}


@functools.lru_cache(maxsize=256)
def _blocks(code: bytes, inline_gas: tuple[int, ...]) -> list[Block | None]:
    destinations, pushes = analysis(code)
    return compile_code(code, inline_gas, pushes, destinations)


def blocks_for(code: bytes, inline_gas: tuple[int, ...]) -> list[Block | None] | None:
    """The code's block functions, once it has run ``COMPILE_AFTER_RUNS`` times; else None."""
    runs = _runs.get(code, 0)
    if runs < COMPILE_AFTER_RUNS:
        if len(_runs) >= 4096:
            _runs.clear()
        _runs[code] = runs + 1
        return None
    return _blocks(code, inline_gas)


def jump_destinations(code: bytes) -> frozenset[int]:
    """Offsets of JUMPDEST instructions that are not PUSH data."""
    return analysis(code)[0]


def bad_jump(code: bytes, destination: int) -> Exception:
    """The error py-evm raises for a jump to ``destination``."""
    # py-evm's two messages: not a JUMPDEST byte at all, or one inside PUSH data.
    if destination < len(code) and code[destination] == JUMPDEST:
        return InvalidInstruction("Jump resulted in invalid instruction")
    return InvalidJumpDestination("Invalid Jump Destination")
