"""Calendar providers behind one protocol (provider.py): free/busy start/end only, idempotent
event creation, delete, time zone, revoke. Each provider declares its Capabilities (how people
connect, whether it invites attendees) instead of being tested by name. The registry routes
each call to the provider named by the owner's Connection, so one process serves local, Google,
Microsoft 365 and CalDAV users and a group asks each provider once. oauth.py is the seam the
connect page drives for providers with an OAuth web flow; tokens.py seals their secrets.
Imports: config, errors, storage only.
"""
