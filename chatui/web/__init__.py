"""The HTTP edge as plain ASGI: security headers, CSRF, body limits, the sign-in cookie's binding, allowed hosts."""
