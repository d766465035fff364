"""Frontdesk: a self-service IT portal with Microsoft Entra ID directory sync and sign-in."""


def create_app(config_object=None, **overrides):
    """The application factory (portal.app), imported on call so the domain packages never load Flask."""
    from portal.app import build_app

    return build_app(config_object, **overrides)
