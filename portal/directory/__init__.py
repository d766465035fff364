"""The directory-sync domain: field mapping and the sync engine. No Flask imports."""
