"""JSON-RPC error codes: the one table every part of the node answers with.

-32700 parse error, -32600 invalid request, -32601 method not found, -32602 invalid params,
-32603 internal error (a bug: logged once), 3 reverted call or estimate (revert bytes in
``data``), -32000 refused transaction or missing state, -32001 unauthorised, -32005 limit
exceeded (including the eth_call gas and time caps).
"""

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
EXECUTION_REVERTED = 3
SERVER_ERROR = -32000
UNAUTHORISED = -32001
LIMIT_EXCEEDED = -32005
