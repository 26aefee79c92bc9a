"""Chat transports: the only code that knows a wire format. CometChat's JSON and REST v3 client
(cometchat), its webhook and bot-callback endpoint (webhook), scheduler clicks (scheduler), and
the demo's socket.io hub (hub). Each turns a payload into a typed event for the dispatcher and
sends OutgoingMessages; none of them runs domain logic.
Imports: core, timeparse, config; never scheduling, web or handlers.
"""
