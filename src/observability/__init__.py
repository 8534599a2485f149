"""Operations: the request context (id, acting-for), Prometheus metrics, structured logs.

Imports no web framework: the API sets the context, the bootstrap stores it with events,
and the workers report job durations here.
"""
