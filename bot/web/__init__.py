"""The web pages we serve: health, metrics and the API description (routes), the booking page
(booking_page), the calendar connect page with any provider's OAuth flow (connect_page), all
rendered through render (templates, CSP nonces, security headers and the one error middleware
that shows the site's own error page). Paths come from bot.core.urls.
Imports: core, scheduling, calendars (the OAuth seam); never transports or handlers.
"""
