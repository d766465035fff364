"""Entra's built-in directory roles as Graph shows them: display name, description and Microsoft's template id."""
import uuid

# Template ids are Microsoft's own (the same in every tenant), from the Entra built-in roles reference.
BUILT_IN = {
    "Global Administrator": ("62e90394-69f5-4237-9190-012177145e10", "Can manage all aspects of Microsoft Entra ID "
                             "and Microsoft services that use Microsoft Entra identities."),
    "Global Reader": ("f2ef992c-3afb-46b9-b7cf-a126ee74c451",
                      "Can read everything that a Global Administrator can, but not update anything."),
    "Privileged Role Administrator": ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Can manage role assignments in "
                                      "Microsoft Entra ID, and all aspects of Privileged Identity Management."),
    "Privileged Authentication Administrator": ("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Can access to view, set and "
                                                "reset authentication method information for any user (admin or non-admin)."),
    "User Administrator": ("fe930be7-5e62-47db-91af-98c3a49a38b1", "Can manage all aspects of users and groups, "
                           "including resetting passwords for limited admins."),
    "Helpdesk Administrator": ("729827e3-9c14-49f7-bb1b-9608f156bbb8",
                               "Can reset passwords for non-administrators and Helpdesk Administrators."),
    "Password Administrator": ("966707d0-3269-4727-9be2-8c3a10f19b9d",
                               "Can reset passwords for non-administrators and Password Administrators."),
    "Authentication Administrator": ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Can access to view, set and reset "
                                     "authentication method information for any non-admin user."),
    "Security Administrator": ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Can read security information and reports, "
                               "and manage configuration in Microsoft Entra ID and Office 365."),
    "Security Reader": ("5d6b6bb7-de71-4623-b4af-96380a352509",
                        "Can read security information and reports in Microsoft Entra ID and Office 365."),
    "Application Administrator": ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
                                  "Can create and manage all aspects of app registrations and enterprise apps."),
    "Groups Administrator": ("fdd7a751-b60b-444a-984c-02652fe8fa1c", "Members of this role can create/manage groups, "
                             "create/manage groups settings like naming and expiration policies, and view groups "
                             "activity and audit reports."),
    "Exchange Administrator": ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Can manage all aspects of the Exchange product."),
    "Billing Administrator": ("b0f54661-2d74-4c50-afa3-1ec803f12efe",
                              "Can perform common billing related tasks like updating payment information."),
    "Directory Readers": ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Can read basic directory information. Commonly "
                          "used to grant directory read access to applications and guests."),
}
# Names outside the catalogue (a seed file's own) still get ids that stay the same from run to run.
_NAMESPACE = uuid.UUID("4f1d2c3b-5a69-4e7d-8c0b-2a1e3f4d5c6b")


def role_object(tenant_id: str, name: str) -> dict:
    """The directoryRole a tenant activates for a role name: a stable per-tenant id, Microsoft's template id."""
    template_id, description = BUILT_IN.get(name, (str(uuid.uuid5(_NAMESPACE, f"template:{name}")), None))
    return {"@odata.type": "#microsoft.graph.directoryRole", "id": str(uuid.uuid5(_NAMESPACE, f"{tenant_id}:{template_id}")),
            "deletedDateTime": None, "description": description, "displayName": name, "roleTemplateId": template_id}
