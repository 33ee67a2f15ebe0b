"""The HTTP edge as plain ASGI layers, outermost first: security headers and CSP (`csp`), cross-site refusal
(`csrf`), body limits and I-JSON (`body_limits`), the sign-in cookie's binding (`sign_in_binding`), loopback hosts
in single-user mode (`hosts`); and who is asking (`client`: address, origin rule)."""
