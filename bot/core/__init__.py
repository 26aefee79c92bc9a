"""The framework: transport-free and calendar-agnostic.

Events in (bot.core.messages: IncomingMessage, SchedulerPick, MembershipChange) -> Dispatcher
(the one error funnel) -> a handler declared on a Router, with a typed Context -> replies through
the transactional Outbox. Also: the clock, signed links and every URL we serve (urls), metrics,
log redaction, rate limits and the runtime that web routes and transports share.
Imports: config/errors, timeparse, calendars (the protocol and registry), storage records.
"""
