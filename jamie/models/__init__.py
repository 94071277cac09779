"""Language-model backends behind one interface, and the failover chain over them.

    base.py           Message, Completion, the Backend protocol, `complete` over `stream`
    openai_compat.py  any OpenAI-compatible endpoint (mlx_lm.server, a cloud fallback)
    llamacpp.py       in-process llama.cpp over a GGUF file (the embedded default)
    mlx.py            in-process mlx-lm (Apple Silicon only)
    chain.py          ordered failover with per-call timeouts and a circuit breaker per backend
    breaker.py        the circuit breaker
    config.py         the chain from `JAMIE_MODELS` (a YAML file, `embedded` or `none`)

Errors: everything raised on purpose derives from `ModelError`. A backend raises
`BackendUnavailable` (or its subclass `BackendTimeout`) when it cannot answer; third-party
errors (openai, httpx, llama.cpp) are translated into these at the backend, once. The chain
raises `NoBackendAvailable` when no backend answered, naming each attempt. A bad
configuration raises `ModelConfigError` at start-up. Importing this package is cheap:
llama.cpp and mlx-lm load on first use.
"""

from jamie.models.base import Backend, Completion, Message, complete
from jamie.models.chain import ChainPolicy, ModelChain, Stream
from jamie.models.errors import (
    BackendTimeout,
    BackendUnavailable,
    ModelConfigError,
    ModelError,
    NoBackendAvailable,
)

__all__ = [
    "Backend",
    "BackendTimeout",
    "BackendUnavailable",
    "ChainPolicy",
    "Completion",
    "Message",
    "ModelChain",
    "ModelConfigError",
    "ModelError",
    "NoBackendAvailable",
    "Stream",
    "complete",
]
