"""The HTTP server around the engine: logging, security headers and host checks, access tokens,
and a graceful shutdown. app.py wires these; the engine and the protocols know none of them."""
