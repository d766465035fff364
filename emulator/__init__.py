"""A local stand-in for Microsoft Entra ID (login.microsoftonline.com) and Microsoft Graph v1.0.

Run it with `python -m emulator`. It serves Microsoft's documented paths, JSON shapes, status codes
and error bodies over real HTTPS with its own CA, so the portal, the tests, the demo and the
benchmarks use the same code path they would use against the real cloud.
"""
