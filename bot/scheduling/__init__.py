"""The scheduling domain: availability maths (availability, group_slots), the one way to read
someone's busy time and translate calendar failures (freebusy), booking without double booking
or lost invites (booking), /find polls (polls), invites (.ics and add-to-calendar links) and the
chat cards (cards). Transport-free: it posts through the outbox and reads through the registry.
Imports: core, calendars (protocol types), timeparse, storage; never transports, web or handlers.
"""
