"""Everything that talks to Microsoft: clouds, MSAL credentials, the Graph client, permissions. No Flask."""
