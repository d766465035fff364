"""Server-side session registry: one DeviceSession per sign-in, checked on every request. No Flask imports."""
